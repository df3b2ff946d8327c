"""Permission applications (第二十五条, 附件3) through the gateway. The people of these tests get their accounts
the only way there is: apply, review, the province's answer, the one-time password, sign-in."""

import asyncio
from uuid import uuid4

import pytest

from backbone.settings import get_settings
from backbone.spreadsheets import read_sheets, text
from tests.e2e import quiet
from tests.e2e.pages import every
from tests.e2e.people import headers_of, sign_in, signed_in, suite_gateway
from tests.e2e.test_scope_and_privacy import database_mentions
from tests.people import id_number
from tests.support.waiting import poll

pytestmark = pytest.mark.e2e
APPLICATIONS = "/permission-applications"


def form(username: str, n: int, **overrides) -> dict:
    """附件3 for a made-up district person; `n` picks their ID number."""
    return {"kind": "grant", "username": username, "org_unit": "220102", "name": "王芳", "id_number": id_number(n),
            "title": "科员", "phone": "0431-88776655", "roles": ["district"], "remarks": "负责资金监控"} | overrides


def first_sign_in(c, username: str, one_time: str) -> tuple[str, dict[str, str]]:
    """Sign in with the one-time password, change it as required, sign in again: the new password and headers."""
    first = sign_in(suite_gateway(), username, one_time)
    assert first.status_code == 200 and first.json()["password_change_required"] is True, first.text
    chosen = f"Own#{uuid4().hex[:8]}"
    changed = c.post("/auth/password", headers=headers_of(first), json={"current_password": one_time,
                                                                      "new_password": chosen})
    assert changed.status_code == 204, changed.text
    return chosen, headers_of(sign_in(suite_gateway(), username, chosen))


def reviewer() -> dict[str, str]:
    """The suite's treasury person, who reviews applications: with an account in place, the bootstrap
    administrator's own applications are reviewed like anyone's."""
    return signed_in("suite-treasury-reviewer", ["treasury"], division="treasury")


def province_key() -> dict[str, str]:
    """The key the deployment configured for the provincial platform (no administrator here issued it)."""
    return {"X-Api-Key": get_settings().province_api_key.get_secret_value()}


def approved(c, admin, body: dict, answerer: dict | None = None) -> dict:
    """An application submitted by the bootstrap administrator and reviewed by the treasury; approved by the
    province's platform, unless `answerer`."""
    r = c.post(APPLICATIONS, json=body, headers=admin)
    assert r.status_code == 201, r.text
    application_id = r.json()["application_id"]
    assert c.post(f"{APPLICATIONS}/{application_id}/review", json={"decision": "accepted"},
                  headers=reviewer()).status_code == 200
    r = c.post(f"{APPLICATIONS}/{application_id}/feedback", json={"decision": "approved"},
               headers=answerer or province_key())
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    return r.json()


def person(c, admin, n: int, **overrides) -> tuple[str, str, dict[str, str]]:
    """A new person with an account, signed in: their name, password and headers."""
    username = f"p{n}-{uuid4().hex[:6]}"
    application = approved(c, admin, form(username, n, **overrides))
    one_time = c.post("/users", json={"application_id": application["application_id"]}, headers=admin
                      ).json()["initial_password"]
    password, headers = first_sign_in(c, username, one_time)
    return username, password, headers


def issued_province_key(c, admin) -> dict[str, str]:
    """A province key an administrator of this platform issued."""
    key = c.post("/api-keys", json={"subject": f"province-{uuid4().hex[:6]}", "roles": ["province_system"]},
                 headers=admin).json()["api_key"]
    return {"X-Api-Key": key}


def test_a_granted_person_gets_a_one_time_password_and_signs_in(stack):
    admin = stack.admin_headers()
    with stack.client() as c:
        username = f"wangfang-{uuid4().hex[:6]}"
        # Applied for, accepted and reported; the provincial platform approves.
        application = approved(c, admin, form(username, 101))
        application_id = application["application_id"]
        users = {u["username"]: u for u in every(c.get, "/users", headers=admin)}
        assert users[username]["status"] == "awaiting_password" and users[username]["roles"] == ["district"]
        # Issued once, to be told to the applicant; a second time is refused.
        r = c.post("/users", json={"application_id": application_id}, headers=admin)
        assert r.status_code == 201 and r.json()["must_change"] is True
        password = r.json()["initial_password"]
        assert len(password) >= 8 and sum(any(f(ch) for ch in password) for f in (
            str.islower, str.isupper, str.isdigit, lambda ch: not ch.isalnum())) >= 3
        assert c.post("/users", json={"application_id": application_id}, headers=admin).status_code == 409
        assert sign_in(suite_gateway(), username, password + "x").status_code == 401
        password, district = first_sign_in(c, username, password)
        # The list of users shows the account, never a credential; it is not for a district.
        listed = c.get("/users", headers=admin)
        assert {u["username"]: u["status"] for u in every(c.get, "/users", headers=admin)}[username] == "active"
        # (A status may say a person is awaiting a password; no field carries one.)
        assert not any("password" in field or "hash" in field for u in listed.json()["items"] for field in u)
        assert password not in listed.text
        assert c.get("/users", headers=district).status_code == 403
        # The application tells its whole story, the account's steps included.
        detail = c.get(f"{APPLICATIONS}/{application_id}", headers=district).json()
        assert detail["status"] == "issued"
        assert [h["event_type"].split(".")[1] for h in detail["history"]] == [
            "PermissionApplicationSubmitted", "PermissionApplicationForwarded", "PermissionApplicationDecided",
            "UserRegistered", "InitialPasswordIssued"]
        assert detail["history"][2]["payload"]["channel"] == "platform"


def test_a_district_applies_for_its_own_people_only_and_the_same_form_twice_is_one(stack):
    admin = stack.admin_headers()
    with stack.client() as c:
        *_, district = person(c, admin, 102)
        # Another district's person: not this district's to ask for.
        r = c.post(APPLICATIONS, json=form(f"other-{uuid4().hex[:6]}", 103, org_unit="220103"), headers=district)
        assert r.status_code == 403
        r = c.post(APPLICATIONS, json=form(f"bad-{uuid4().hex[:6]}", 104) | {"id_number": "220102199001010000"},
                   headers=district)
        assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["body.id_number"]
        assert "220102199001010000" not in r.text
        r = c.post(APPLICATIONS, json=form(f"x-{uuid4().hex[:6]}", 104, roles=["treasury"]), headers=district)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "roles"
        # Its own: accepted; the same form again, or the same key again, is the same application.
        body = form(f"own-{uuid4().hex[:6]}", 105)
        first = c.post(APPLICATIONS, json=body, headers=district)
        assert first.status_code == 201 and first.json()["id_masked"] == id_number(105)[:6] + "********" + \
            id_number(105)[-4:]
        again = c.post(APPLICATIONS, json=body, headers=district)
        assert again.json()["application_id"] == first.json()["application_id"]
        assert again.headers["Idempotency-Replayed"] == "true"
        # Another form for a person with an application under way waits for that one.
        assert c.post(APPLICATIONS, json=body | {"title": "副科长"}, headers=district).status_code == 409
        keyed = form(f"key-{uuid4().hex[:6]}", 106)
        k1 = c.post(APPLICATIONS, json=keyed, headers=district | {"Idempotency-Key": "k-106"})
        k2 = c.post(APPLICATIONS, json=keyed, headers=district | {"Idempotency-Key": "k-106"})
        assert k1.status_code == k2.status_code == 201 and k1.json()["application_id"] == k2.json()["application_id"]
        reused = c.post(APPLICATIONS, json=keyed | {"title": "副科长"}, headers=district | {"Idempotency-Key": "k-106"})
        assert reused.status_code == 422 and reused.json()["errors"][0]["field"] == "Idempotency-Key"
        mine = {a["application_id"] for a in c.get(APPLICATIONS, headers=district).json()["items"]}
        assert {first.json()["application_id"], k1.json()["application_id"]} <= mine
        # A district neither reviews nor answers.
        application_id = first.json()["application_id"]
        assert c.post(f"{APPLICATIONS}/{application_id}/review", json={"decision": "accepted"},
                      headers=district).status_code == 403
        # Another district does not see it.
        *_, elsewhere = person(c, admin, 107, org_unit="220104")
        assert c.get(f"{APPLICATIONS}/{application_id}", headers=elsewhere).status_code == 404
        listed = c.get(APPLICATIONS, headers=elsewhere).json()["items"]
        assert application_id not in {a["application_id"] for a in listed}


def test_a_change_alters_roles_and_a_revoke_stops_sign_in(stack):
    admin = stack.admin_headers()
    with stack.client() as c:
        treasurer = dict(org_unit=None, division="treasury", roles=["treasury"])
        username, password, headers = person(c, admin, 108, **treasurer)
        assert c.get("/api-keys", headers=headers).status_code == 403
        # 变更: the administrator's role is added; it holds from the next sign-in.
        approved(c, admin, form(username, 108, kind="change", **treasurer | {"roles": ["treasury", "admin"]}))
        users = {u["username"]: u for u in every(c.get, "/users", headers=admin)}
        assert users[username]["roles"] == ["admin", "treasury"]
        signed_in = headers_of(sign_in(suite_gateway(), username, password))
        assert c.get("/api-keys", headers=signed_in).status_code == 200
        # 撤销: no more sign-in, and the session open at that moment ends with it.
        revoke = form(username, 108, kind="revoke", roles=[], org_unit=None, division=None)
        application = approved(c, admin, revoke)
        assert application["roles"] == ["admin", "treasury"], "a revoke names the roles the person held"
        assert sign_in(suite_gateway(), username, password).status_code == 401
        ended = c.get("/api-keys", headers=signed_in)
        assert ended.status_code == 401 and "the account was revoked" in ended.json()["detail"]
        users = {u["username"]: u for u in every(c.get, "/users", headers=admin)}
        assert users[username]["status"] == "revoked" and users[username]["revoked_at"]
        issue = c.post("/users", json={"application_id": application["application_id"]}, headers=admin)
        assert issue.status_code == 409, "a revoke issues no password"
        r = c.post(APPLICATIONS, json=form(username, 108, kind="change", **treasurer), headers=admin)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "username"


def test_a_returned_application_is_answered_only_after_its_correction(stack):
    admin = stack.admin_headers()
    with stack.client() as c:
        key, treasury = province_key(), reviewer()
        application_id = c.post(APPLICATIONS, json=form(f"ret-{uuid4().hex[:6]}", 109), headers=admin
                                ).json()["application_id"]
        step = f"{APPLICATIONS}/{application_id}"
        assert c.post(f"{step}/review", json={"decision": "returned"}, headers=treasury).status_code == 422
        r = c.post(f"{step}/review", json={"decision": "returned", "reason": "职务填写不规范"}, headers=treasury)
        assert r.json()["status"] == "returned" and r.json()["return_reason"] == "职务填写不规范"
        # Out of turn: no answer, no second review, no password before the correction.
        refused = c.post(f"{step}/feedback", json={"decision": "approved"}, headers=key)
        assert refused.status_code == 409 and refused.headers["content-type"].startswith("application/problem+json")
        assert c.post(f"{step}/review", json={"decision": "accepted"}, headers=treasury).status_code == 409
        assert c.post("/users", json={"application_id": application_id}, headers=admin).status_code == 409
        corrected = form(r.json()["username"], 109, title="科长")
        corrected.pop("kind")
        r = c.post(f"{step}/resubmission", json=corrected, headers=admin)
        assert r.status_code == 200 and r.json()["status"] == "submitted" and r.json()["title"] == "科长"
        assert c.post(f"{step}/resubmission", json=corrected, headers=admin).status_code == 409
        c.post(f"{step}/review", json={"decision": "accepted"}, headers=treasury)
        # It waits in the province's queue until the province answers.
        queue = c.get(APPLICATIONS, params={"status": "forwarded", "limit": 1000}, headers=key).json()["items"]
        assert application_id in {a["application_id"] for a in queue}
        r = c.post(f"{step}/feedback", json={"decision": "rejected", "remarks": "岗位无需此权限"}, headers=key)
        assert r.json()["status"] == "rejected" and r.json()["province_remarks"] == "岗位无需此权限"
        assert c.post(f"{step}/feedback", json={"decision": "approved"}, headers=key).status_code == 409
        assert r.json()["username"] not in {u["username"] for u in every(c.get, "/users", headers=admin)}


def test_the_form_has_the_seeds_columns_and_no_id_number_leaves_it(stack, servers):
    admin = stack.admin_headers()
    with stack.client() as c:
        # A treasury person allowed to see ID numbers.
        *_, treasurer = person(c, admin, 110, org_unit=None, division="treasury", roles=["treasury"], pii=True)
        numbers = [id_number(n) for n in (111, 112)]
        for n in (111, 112):
            application_id = c.post(APPLICATIONS, json=form(f"f{n}-{uuid4().hex[:6]}", n), headers=admin
                                    ).json()["application_id"]
            c.post(f"{APPLICATIONS}/{application_id}/review", json={"decision": "accepted"}, headers=treasurer)
        masked = c.get(f"{APPLICATIONS}/form", headers=admin)
        assert masked.status_code == 200 and "attachment" in masked.headers["content-disposition"]
        rows = _rows(masked.content)
        assert rows[0] == ["财政扶贫资金动态监控平台用户权限申请表"]
        header = rows.index(["序号", "处室", "姓名", "身份证号", "职务", "联系电话", "权限", "备注"])
        table = [r for r in rows[header + 1:rows.index(["填报人："])] if r]
        by_number = {r[3]: r for r in table}
        assert {n[:6] + "********" + n[-4:] for n in numbers} <= set(by_number)
        assert by_number[numbers[0][:6] + "********" + numbers[0][-4:]][1:3] == ["南关区", "王芳"]
        assert by_number[numbers[0][:6] + "********" + numbers[0][-4:]][6] == "开通：区（开发区）财政局"
        # With the PII permission, the full numbers the province needs; the audit trail names who took them.
        full = _rows(c.get(f"{APPLICATIONS}/form", headers=treasurer).content)
        assert set(numbers) <= {r[3] for r in full if len(r) > 3}
        trail = c.get("/audit", params={"action": "personal_data.reveal", "limit": 1000}, headers=admin).json()
        assert any(e["target"].startswith("附件3 (forwarded)") and e["outcome"] == "shown" for e in trail["items"])
        assert poll(lambda: len(c.get("/audit", params={"action": "GET /api/v1/permission-applications/form"},
                                      headers=admin).json()["items"]) >= 2), "each download of the form is on record"
        district = c.get(f"{APPLICATIONS}/form", headers=person(c, admin, 113)[2])
        assert district.status_code == 403
    quiet.settle(servers)
    # Neither events nor tables nor log lines hold a full number: ciphertext and masks only.
    for n in numbers:
        assert asyncio.run(database_mentions(servers.database_url, n)) == []
        for log in stack.processes.log_dir.glob("*.log"):
            assert n not in log.read_text(encoding="utf-8", errors="replace"), f"an ID number is in {log.name}"


def _rows(content: bytes) -> list[list[str]]:
    return [[text(cell) for cell in cells if cell not in (None, "")]
            for _, cells in read_sheets(content, "form.xlsx")[0].rows]


def test_nobody_grants_themselves_a_role_alone(stack):
    admin = stack.admin_headers()
    treasurer = dict(org_unit=None, division="treasury", roles=["treasury"])
    with stack.client() as c:
        me, _, mine = person(c, admin, 111, **treasurer)
        _, _, colleague = person(c, admin, 112, **treasurer)
        # A treasury person asks to become an administrator and tries to take the next steps alone.
        r = c.post(APPLICATIONS, json=form(me, 111, kind="change", **treasurer | {"roles": ["treasury", "admin"]}),
                   headers=mine)
        assert r.status_code == 201, r.text
        step = f"{APPLICATIONS}/{r.json()['application_id']}"
        refused = c.post(f"{step}/review", json={"decision": "accepted"}, headers=mine)
        assert refused.status_code == 403 and refused.json()["type"].endswith("/separation-of-duties")
        # A colleague reviews; the province's paper answer is then for a third person, not for the two of them.
        assert c.post(f"{step}/review", json={"decision": "accepted"}, headers=colleague).status_code == 200
        for who in (mine, colleague):
            assert c.post(f"{step}/feedback", json={"decision": "approved"}, headers=who).status_code == 403
        assert c.post(f"{step}/feedback", json={"decision": "approved"}, headers=admin).status_code == 200
        assert {u["username"]: u for u in every(c.get, "/users", headers=admin)}[me]["roles"] == ["admin", "treasury"]


def test_an_administrator_cannot_answer_for_the_province_with_a_key_of_their_own(stack):
    admin = stack.admin_headers()
    with stack.client() as c:
        _, _, second_admin = person(c, admin, 114, org_unit=None, division="treasury", roles=["admin"])
        # The second administrator applies for a friend's account; the first reviews it.
        r = c.post(APPLICATIONS, json=form(f"friend-{uuid4().hex[:6]}", 115), headers=second_admin)
        assert r.status_code == 201, r.text
        step = f"{APPLICATIONS}/{r.json()['application_id']}"
        assert c.post(f"{step}/review", json={"decision": "accepted"}, headers=admin).status_code == 200
        # A province key the applicant issued is the applicant's answer, not the province's.
        own_key = issued_province_key(c, second_admin)
        refused = c.post(f"{step}/feedback", json={"decision": "approved"}, headers=own_key)
        assert refused.status_code == 403 and refused.json()["type"].endswith("/separation-of-duties"), refused.text
        assert c.get(step, headers=admin).json()["status"] == "forwarded", "nothing was decided"
        # Nor one the reviewer issued.
        reviewers_key = issued_province_key(c, admin)
        assert c.post(f"{step}/feedback", json={"decision": "approved"}, headers=reviewers_key).status_code == 403
        answered = c.post(f"{step}/feedback", json={"decision": "approved"}, headers=province_key())
        assert answered.status_code == 200 and answered.json()["status"] == "approved"


def test_the_bootstrap_administrator_no_longer_reviews_its_own_applications_once_the_treasury_has_staff(stack):
    admin = stack.admin_headers()
    reviewer()  # the treasury has a person
    with stack.client() as c:
        r = c.post(APPLICATIONS, json=form(f"late-{uuid4().hex[:6]}", 117), headers=admin)
        step = f"{APPLICATIONS}/{r.json()['application_id']}"
        refused = c.post(f"{step}/review", json={"decision": "accepted"}, headers=admin)
        assert refused.status_code == 403 and refused.json()["type"].endswith("/separation-of-duties")
        assert c.post(f"{step}/review", json={"decision": "accepted"}, headers=reviewer()).status_code == 200
        # The answer for the province is not the applicant's to give through a key it issued.
        own_key = issued_province_key(c, admin)
        refused = c.post(f"{step}/feedback", json={"decision": "approved"}, headers=own_key)
        assert refused.status_code == 403 and refused.json()["type"].endswith("/separation-of-duties")
        assert c.post(f"{step}/feedback", json={"decision": "approved"}, headers=province_key()).status_code == 200


def test_no_person_is_given_a_machines_name(stack):
    admin = stack.admin_headers()
    with stack.client() as c:
        machine = f"province-{uuid4().hex[:6]}"
        c.post("/api-keys", json={"subject": machine, "roles": ["province_system"]}, headers=admin).raise_for_status()
        r = c.post(APPLICATIONS, json=form(machine, 116), headers=admin)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "username", r.text
