"""Signing in at protection level 3: one-time passwords changed first, the password policy, lockout after
five wrong passwords, sessions that end when idle, at sign-out and when the password changes."""

import asyncio
import time

import httpx
import pyotp
import pytest

from backbone.settings import get_settings
from tests.e2e import db
from tests.e2e.people import PASSWORD, account, bearer, sign_in

pytestmark = pytest.mark.e2e


def sql(servers, statement: str, *args) -> None:
    asyncio.run(db.execute(servers.database_url, statement, *args))


def test_a_one_time_password_must_be_changed_first_and_the_change_ends_the_session(stack, servers):
    gw = stack.gateway
    user = account(servers.database_url, "nanguan.chen", ["district"], org_unit="220102", must_change=True)
    first = sign_in(gw, user)
    assert first.status_code == 200 and first.json()["password_change_required"] is True
    headers = {"Authorization": f"Bearer {first.json()['access_token']}"}
    blocked = httpx.get(f"{gw}/api/v1/alerts", headers=headers)
    assert blocked.status_code == 403 and blocked.json()["reason"] == "password_change_required"
    weak = httpx.post(f"{gw}/api/v1/auth/password", headers=headers,
                      json={"current_password": PASSWORD, "new_password": "abcnanguan.chen"})
    assert weak.status_code == 422
    assert {e["field"] for e in weak.json()["errors"]} == {"new_password"}
    assert "three kinds" in weak.text and "must not contain the user name" in weak.text
    wrong = httpx.post(f"{gw}/api/v1/auth/password", headers=headers,
                       json={"current_password": "Not#TheOne1", "new_password": "Changed#2026x"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "current_password"
    changed = httpx.post(f"{gw}/api/v1/auth/password", headers=headers,
                         json={"current_password": PASSWORD, "new_password": "Changed#2026x"})
    assert changed.status_code == 204
    ended = httpx.get(f"{gw}/api/v1/alerts", headers=headers)
    assert ended.status_code == 401 and "password was changed" in ended.json()["detail"]
    assert sign_in(gw, user).status_code == 401, "the old password is gone"
    again = sign_in(gw, user, "Changed#2026x")
    assert again.status_code == 200 and again.json()["password_change_required"] is False
    assert httpx.get(f"{gw}/api/v1/alerts", headers={
        "Authorization": f"Bearer {again.json()['access_token']}"}).status_code == 200


def test_five_wrong_passwords_lock_the_account_until_the_time_passes_or_an_administrator_resets_it(stack, servers):
    gw = stack.gateway
    user = account(servers.database_url, "kuancheng.chu", ["district"], org_unit="220103")
    for _ in range(5):
        refused = sign_in(gw, user, "Wrong#Pass2026")
        assert refused.status_code == 401 and refused.json()["detail"] == "wrong user name or password"
    locked = sign_in(gw, user)
    assert locked.status_code == 401 and "locked after 5 wrong passwords" in locked.json()["detail"]
    sql(servers, "UPDATE gateway.credentials SET locked_until = now() - interval '1 second' WHERE username = $1",
        user)
    assert sign_in(gw, user).status_code == 200, "fifteen minutes later it opens again"
    own = bearer(gw, user)
    for _ in range(5):
        sign_in(gw, user, "Wrong#Pass2026")
    assert "locked" in sign_in(gw, user).json()["detail"]
    admin = stack.admin_headers()
    assert httpx.post(f"{gw}/api/v1/users/{user}/password-reset", headers=own).status_code == 403, "admins only"
    reset = httpx.post(f"{gw}/api/v1/users/{user}/password-reset", headers=admin)
    assert reset.status_code == 200
    fresh = sign_in(gw, user, reset.json()["one_time_password"])
    assert fresh.status_code == 200 and fresh.json()["password_change_required"] is True
    assert httpx.post(f"{gw}/api/v1/users/nobody/password-reset", headers=admin).status_code == 404


def test_a_session_ends_at_sign_out_and_after_thirty_idle_minutes(stack, servers):
    gw = stack.gateway
    user = account(servers.database_url, "budget.feng", ["budget"])
    headers = bearer(gw, user)
    assert httpx.get(f"{gw}/api/v1/alerts", headers=headers).status_code == 200
    assert httpx.post(f"{gw}/api/v1/auth/logout", headers=headers).status_code == 204
    after = httpx.get(f"{gw}/api/v1/alerts", headers=headers)
    assert after.status_code == 401 and "signed out" in after.json()["detail"]

    idle = bearer(gw, user)
    busy = bearer(gw, user)
    sql(servers, "UPDATE gateway.sessions SET last_seen_at = now() - interval '31 minutes' "
                 "WHERE username = $1 AND ended_at IS NULL AND session_id = (SELECT session_id FROM gateway.sessions "
                 "WHERE username = $1 AND ended_at IS NULL ORDER BY issued_at LIMIT 1)", user)
    gone = httpx.get(f"{gw}/api/v1/alerts", headers=idle)
    assert gone.status_code == 401 and "idle for more than 30 minutes" in gone.json()["detail"]
    assert httpx.get(f"{gw}/api/v1/alerts", headers=busy).status_code == 200, "other sessions go on"


def test_a_password_older_than_ninety_days_must_be_changed_but_the_bootstrap_administrators(stack, servers):
    gw = stack.gateway
    user = account(servers.database_url, "ninety.days.on", ["budget"])
    admin = get_settings().admin_user
    age = "UPDATE gateway.credentials SET changed_at = changed_at - interval '91 days' WHERE username = $1"
    sql(servers, age, user)
    aged = sign_in(gw, user)
    assert aged.status_code == 200 and aged.json()["password_change_required"] is True
    sql(servers, age, admin)
    try:
        # From the deployment's environment, rotated there: exempt.
        assert stack_sign_in_admin(gw).json()["password_change_required"] is False
    finally:
        sql(servers, "UPDATE gateway.credentials SET changed_at = changed_at + interval '91 days' "
                     "WHERE username = $1", admin)


def stack_sign_in_admin(gw: str) -> httpx.Response:
    s = get_settings()
    return sign_in(gw, s.admin_user, s.admin_password.get_secret_value())


def test_an_open_alert_stream_ends_with_its_session(stack, servers):
    gw = stack.gateway
    headers = bearer(gw, account(servers.database_url, "dashboard.zhou", ["treasury"]))
    # The token lives an hour; the stream must end long before. The gateway asks after the session between
    # chunks (keep-alives come every 15 s, it asks at most every 5 s): the first chunk or two after the logout
    # may still pass, a stream that flows on sends more.
    with httpx.stream("GET", f"{gw}/api/v1/alerts/stream", headers=headers,
                      timeout=httpx.Timeout(5.0, read=40.0)) as stream:
        assert stream.status_code == 200
        assert httpx.post(f"{gw}/api/v1/auth/logout", headers=headers).status_code == 204
        for after_logout, _ in enumerate(stream.iter_raw(), start=1):
            assert after_logout <= 3, "the stream flows on after its session ended"
    assert httpx.get(f"{gw}/api/v1/alerts", headers=headers).status_code == 401


def test_a_second_factor_once_enrolled_is_asked_for_at_every_sign_in_and_each_code_works_once(stack, servers):
    gw = stack.gateway
    user = account(servers.database_url, "admin.two", ["admin"])
    headers, elsewhere = bearer(gw, user), bearer(gw, user)
    enrol = f"{gw}/api/v1/auth/second-factor/enrollment"
    # A token alone does not enrol a factor: the password proves it is the person.
    stolen = httpx.post(enrol, headers=headers, json={"current_password": "Wrong#Pass2026"})
    assert stolen.status_code == 422 and stolen.json()["errors"][0]["field"] == "current_password"
    enrolment = httpx.post(enrol, headers=headers, json={"current_password": PASSWORD})
    assert enrolment.status_code == 200 and enrolment.json()["otpauth_uri"].startswith("otpauth://totp/")
    app = pyotp.TOTP(enrolment.json()["secret"])
    wrong = httpx.post(f"{gw}/api/v1/auth/second-factor/confirmation", headers=headers, json={"code": "000000"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "code"
    assert httpx.post(f"{gw}/api/v1/auth/second-factor/confirmation", headers=headers,
                      json={"code": app.now()}).status_code == 204
    # The session opened without the factor ends; the one that enrolled it goes on.
    ended = httpx.get(f"{gw}/api/v1/alerts", headers=elsewhere)
    assert ended.status_code == 401 and "new second factor" in ended.json()["detail"]
    assert httpx.get(f"{gw}/api/v1/alerts", headers=headers).status_code == 200
    # Replacing the enrolled factor takes a code from it, not the password alone.
    replace = httpx.post(enrol, headers=headers, json={"current_password": PASSWORD})
    assert replace.status_code == 422 and replace.json()["errors"][0]["field"] == "current_code"
    # The password alone no longer signs in; with the app's code it does, and that code only once.
    without = sign_in(gw, user)
    assert without.status_code == 401 and without.json()["second_factor_required"] is True
    code = app.at(time.time() + 30)  # the next step's code: the confirmation used this step's
    with_code = httpx.post(f"{gw}/api/v1/auth/token", json={"username": user, "password": PASSWORD, "code": code})
    assert with_code.status_code == 200
    again = httpx.post(f"{gw}/api/v1/auth/token", json={"username": user, "password": PASSWORD, "code": code})
    assert again.status_code == 401, "a code works once"
    # A lost phone: an administrator removes the factor; the person's sessions end.
    fresh = {"Authorization": f"Bearer {with_code.json()['access_token']}"}
    assert httpx.post(f"{gw}/api/v1/users/{user}/second-factor-reset", headers=stack.admin_headers()).status_code == 204
    ended = httpx.get(f"{gw}/api/v1/alerts", headers=fresh)
    assert ended.status_code == 401 and "second factor was reset" in ended.json()["detail"]
    assert sign_in(gw, user).status_code == 200
