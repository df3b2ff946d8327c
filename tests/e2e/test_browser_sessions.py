"""Browser sessions of the web console: a cookie instead of a token (HttpOnly, SameSite=Strict), a CSRF token on
every write made with it, the alert stream with the cookie alone, sign-out clearing it; the console's files at `/`."""

from datetime import datetime, timedelta
from http.cookies import SimpleCookie

import httpx
import pytest

from backbone.clock import clock
from tests.e2e.people import PASSWORD, account

pytestmark = pytest.mark.e2e

COOKIE = "fundwatch_session"


def browser_sign_in(stack, username: str) -> tuple[httpx.Response, dict[str, str], str]:
    """Sign in as a browser does: the session cookie (as a Cookie header) and the CSRF token."""
    signed = httpx.post(f"{stack.gateway}/api/v1/auth/session", json={"username": username, "password": PASSWORD})
    assert signed.status_code == 200, signed.text
    jar = SimpleCookie(signed.headers["set-cookie"])
    return signed, {"Cookie": f"{COOKIE}={jar[COOKIE].value}"}, signed.json()["csrf_token"]


def test_a_browser_signs_in_with_a_strict_http_only_cookie_and_no_token_to_keep(stack, servers):
    name = account(servers.database_url, "console-南关区-赵", ["district"], org_unit="220102")
    signed, cookie, csrf = browser_sign_in(stack, name)
    flags = signed.headers["set-cookie"].lower()
    assert "httponly" in flags and "samesite=strict" in flags and "path=/" in flags
    # The suite runs in development, over plain HTTP; everywhere else the cookie is Secure.
    assert "secure" not in flags.replace("samesite=strict", "")
    assert "access_token" not in signed.json() and len(csrf) == 64

    me = httpx.get(f"{stack.gateway}/api/v1/me", headers=cookie)
    assert me.status_code == 200, me.text
    body = me.json()
    assert (body["username"], body["org_unit"], body["roles"]) == (name, "220102", ["district"])
    assert body["csrf_token"] == csrf and body["password_change_required"] is False
    assert "GET /api/v1/alerts" in body["operations"] and "GET /api/v1/payments" not in body["operations"]
    assert "POST /api/v1/auth/session" not in body["operations"], "public endpoints are nobody's operation"
    # The console's "today" is the platform's clock (the suite's is shifted to its fixed date), not the browser's.
    assert abs(datetime.fromisoformat(body["now"]) - clock().now()) < timedelta(minutes=5), body["now"]


def test_a_write_with_the_cookie_needs_the_sessions_csrf_token_and_a_bearer_token_does_not(stack, servers):
    name = account(servers.database_url, "console-农业处-王", ["division"], division="agriculture")
    _, cookie, csrf = browser_sign_in(stack, name)
    url = f"{stack.gateway}/api/v1/alerts/no-such-alert/dispositions"
    sheet = {"action": "verify_normal", "method": "电话核实", "findings": "核实无误"}
    for headers in (cookie, cookie | {"X-CSRF-Token": "0" * 64}):
        refused = httpx.post(url, json=sheet, headers=headers)
        assert refused.status_code == 403 and refused.json()["reason"] == "csrf_token_missing", refused.text
    # With the token the write goes through to the service, which knows no such alert.
    assert httpx.post(url, json=sheet, headers=cookie | {"X-CSRF-Token": csrf}).status_code == 404
    # Another session's token is not this one's.
    _, _, other = browser_sign_in(stack, name)
    assert httpx.post(url, json=sheet, headers=cookie | {"X-CSRF-Token": other}).status_code == 403
    token = httpx.post(f"{stack.gateway}/api/v1/auth/token", json={"username": name, "password": PASSWORD})
    bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert httpx.post(url, json=sheet, headers=bearer).status_code == 404, "bearer tokens carry no CSRF risk"


def test_the_alert_stream_opens_with_the_cookie_alone(stack, servers):
    name = account(servers.database_url, "console-监督局-孙", ["supervision"])
    _, cookie, _ = browser_sign_in(stack, name)
    with httpx.stream("GET", f"{stack.gateway}/api/v1/alerts/stream", headers=cookie,
                      timeout=httpx.Timeout(10.0, read=None)) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
    with httpx.stream("GET", f"{stack.gateway}/api/v1/alerts/stream", timeout=10) as anonymous:
        assert anonymous.status_code == 401


def test_signing_out_clears_the_cookie_and_ends_the_session(stack, servers):
    name = account(servers.database_url, "console-国库处-钱", ["treasury"])
    _, cookie, csrf = browser_sign_in(stack, name)
    assert httpx.post(f"{stack.gateway}/api/v1/auth/logout", headers=cookie).status_code == 403, "no CSRF token"
    out = httpx.post(f"{stack.gateway}/api/v1/auth/logout", headers=cookie | {"X-CSRF-Token": csrf})
    assert out.status_code == 204
    cleared = out.headers["set-cookie"].lower()
    assert cleared.startswith(f"{COOKIE}=") and "max-age=0" in cleared and "httponly" in cleared
    gone = httpx.get(f"{stack.gateway}/api/v1/me", headers=cookie)
    assert gone.status_code == 401 and "signed out" in gone.json()["detail"]


def test_a_browser_sign_in_names_the_field_at_fault_and_refuses_wrong_passwords(stack, servers):
    missing = httpx.post(f"{stack.gateway}/api/v1/auth/session", json={"username": "someone"})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "body.password"
    bad_code = httpx.post(f"{stack.gateway}/api/v1/auth/session",
                          json={"username": "someone", "password": "x", "code": "12ab"})
    assert bad_code.status_code == 422 and bad_code.json()["errors"][0]["field"] == "body.code"
    wrong = httpx.post(f"{stack.gateway}/api/v1/auth/session", json={"username": "nobody-at-all", "password": "x"})
    assert wrong.status_code == 401 and "set-cookie" not in wrong.headers


def test_the_gateway_serves_the_console_and_keeps_its_own_paths(stack):
    page = httpx.get(f"{stack.gateway}/")
    assert page.status_code == 200 and "<div id=\"app\">" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    # A page of the console's own routing gets the same index (history mode); the API's paths stay the API's.
    deep = httpx.get(f"{stack.gateway}/alerts/some-alert/print")
    assert deep.status_code == 200 and deep.text == page.text
    assert httpx.get(f"{stack.gateway}/api/v2/anything").status_code == 404
    assert httpx.get(f"{stack.gateway}/api/v1/me").status_code == 401
    assert httpx.get(f"{stack.gateway}/healthz").json()
    assert httpx.get(f"{stack.gateway}/../../etc/passwd").text == page.text, "no file outside the console's folder"
    font = httpx.get(f"{stack.gateway}/fonts/fundwatch-sans-sc.woff2")
    assert font.status_code == 200 and font.content[:4] == b"wOF2"
