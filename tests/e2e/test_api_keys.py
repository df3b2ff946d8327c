"""Machine API keys: issued once, hashed at rest, rotated with both keys valid during the switch, revoked at
once, each with its own rate limit."""

from datetime import UTC, datetime, timedelta

import pytest

from backbone.pages import MAX_LIMIT
from backbone.settings import get_settings
from tests.e2e.conftest import indicator_body
from tests.e2e.pages import every

pytestmark = pytest.mark.e2e


def test_rotating_the_treasury_systems_key_without_downtime(stack):
    admin = stack.admin_headers()
    with stack.client() as c:
        indicator = c.post("/indicators", json=indicator_body("10.00"), headers=admin).json()["id"]
        request = {"subject": "treasury-system-2027", "roles": ["treasury_system"], "expires_in_days": 30}
        old = c.post("/api-keys", json=request, headers=admin).json()
        forever = c.post("/api-keys", json=request | {"expires_in_days": None}, headers=admin)
        assert forever.status_code == 422 and forever.json()["errors"][0]["field"] == "body.expires_in_days"

        def intake(key: str) -> int:
            return c.post("/payments/batch", json={"payments": []}, headers={"X-Api-Key": key}).status_code

        rotated = c.post(f"/api-keys/{old['key_id']}/rotation", json={"overlap_hours": 2}, headers=admin)
        assert rotated.status_code == 201, rotated.text
        new = rotated.json()["new"]
        assert new["api_key"] != old["api_key"] and (new["subject"], new["roles"]) == (old["subject"], old["roles"])
        old_until = datetime.fromisoformat(rotated.json()["old"]["expires_at"])
        assert timedelta(hours=1) < old_until - datetime.now(UTC) <= timedelta(hours=2)
        # During the switch both keys work.
        assert intake(old["api_key"]) == intake(new["api_key"]) == 200
        listed = {k["key_id"]: k for k in every(c.get, "/api-keys", headers=admin)}
        assert "api_key" not in listed[old["key_id"]] and listed[new["key_id"]]["expires_at"]
        r = c.post(f"/api-keys/{old['key_id']}/revocation", json={"reason": "切换完成"}, headers=admin)
        assert r.status_code == 200 and r.json()["revoked_at"]
        assert intake(old["api_key"]) == 401 and intake(new["api_key"]) == 200
        assert c.post(f"/api-keys/{old['key_id']}/revocation", json={"reason": "again"}, headers=admin).status_code == 404
        assert c.post(f"/api-keys/{old['key_id']}/rotation", json={}, headers=admin).status_code == 404
        # A rotation without overlap ends the old key at once.
        newest = c.post(f"/api-keys/{new['key_id']}/rotation", json={"overlap_hours": 0}, headers=admin).json()["new"]
        assert intake(new["api_key"]) == 401 and intake(newest["api_key"]) == 200
        # Machine keys cannot manage keys, nor can they be given a person's role.
        assert c.get("/api-keys", headers={"X-Api-Key": newest["api_key"]}).status_code == 403
        bad = c.post("/api-keys", json=request | {"roles": ["admin"]}, headers=admin)
        assert bad.status_code == 422 and "roles" in bad.json()["errors"][0]["field"]
        assert c.get(f"/indicators/{indicator}", headers={"X-Api-Key": newest["api_key"]}).status_code == 200


def test_a_key_over_its_rate_limit_is_told_when_to_come_back(stack):
    admin = stack.admin_headers()
    with stack.client() as c:
        bad = c.post("/api-keys", headers=admin, json={"subject": "province", "roles": ["province_system"],
                                                        "rate_limit": "lots"})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.rate_limit"
        # A key acts under a machine's name, never a person's.
        for person in ("国库处-张", get_settings().admin_user):
            named = c.post("/api-keys", headers=admin, json={"subject": person, "roles": ["province_system"]})
            assert named.status_code == 422 and named.json()["errors"][0]["field"].endswith("subject"), named.text
        key = c.post("/api-keys", headers=admin, json={"subject": "province-platform-test", "roles": ["province_system"],
                                                        "rate_limit": "3/minute"}).json()
        assert key["rate_limit"] == "3/minute"
        answers = [c.get("/registry/imports/none", headers={"X-Api-Key": key["api_key"]}) for _ in range(4)]
        assert [a.status_code for a in answers[:3]] == [404] * 3
        refused = answers[3]
        assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
        assert refused.json()["retry_after"] == int(refused.headers["Retry-After"])
        # Another caller is not held back by it.
        assert c.get("/api-keys", headers=admin).status_code == 200


def test_the_keys_are_walked_page_by_page_to_their_end_each_once_while_keys_are_issued(stack):
    # One way to list: a page of `items` and the `next_cursor`, newest first; a cursor is a keyset, so keys
    # issued during the walk neither repeat a key nor hide one that was there when the walk began.
    admin = stack.admin_headers()
    with stack.client() as c:
        def issue(subject: str) -> None:
            issued = c.post("/api-keys", headers=admin, json={"subject": subject, "roles": ["province_system"]})
            assert issued.status_code == 201, issued.text

        for n in range(5):
            issue(f"paging-walk-{n}")
        there = every(c.get, "/api-keys", headers=admin)
        assert len(there) >= 6, "the walk below, two keys a page, takes at least three pages"
        walked, cursor, pages = [], None, 0
        while True:
            page = c.get("/api-keys", headers=admin, params={"limit": 2} | ({"cursor": cursor} if cursor else {}))
            assert page.status_code == 200, page.text
            walked += page.json()["items"]
            pages += 1
            if pages == 1:
                issue("paging-walk-late")
            if not (cursor := page.json()["next_cursor"]):
                break
        ids = [k["key_id"] for k in walked]
        assert len(ids) == len(set(ids)), "no key twice"
        assert ids == [k["key_id"] for k in there] and pages == -(-len(there) // 2)
        order = [(datetime.fromisoformat(k["created_at"]), k["key_id"]) for k in walked]
        assert order == sorted(order, reverse=True), "newest first"
        # Beyond the maximum a list is walked, not fetched whole: the 422 names the field.
        for limit in (MAX_LIMIT + 1, 0):
            refused = c.get("/api-keys", headers=admin, params={"limit": limit})
            assert refused.status_code == 422 and [e["field"] for e in refused.json()["errors"]] == ["query.limit"]
        forged = c.get("/api-keys", headers=admin, params={"cursor": "bm90LWpzb24="})
        assert forged.status_code == 422 and forged.json()["errors"][0]["field"] == "cursor"
