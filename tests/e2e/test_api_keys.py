"""Machine API keys: issued once, hashed at rest, two valid during a switch, revoked at once."""

import pytest

from tests.e2e.conftest import indicator_body

pytestmark = pytest.mark.e2e


def test_rotating_the_treasury_systems_key_without_downtime(stack):
    admin = stack.admin_headers()
    with stack.client() as c:
        indicator = c.post("/indicators", json=indicator_body("10.00"), headers=admin).json()["id"]
        request = {"subject": "treasury-system-2027", "roles": ["treasury_system"], "expires_in_days": 30}
        old = c.post("/api-keys", json=request, headers=admin).json()
        new = c.post("/api-keys", json=request, headers=admin).json()
        assert old["api_key"] != new["api_key"] and old["expires_at"]

        def intake(key: str) -> int:
            return c.post("/payments/batch", json={"payments": []}, headers={"X-Api-Key": key}).status_code

        # During the switch both keys work.
        assert intake(old["api_key"]) == intake(new["api_key"]) == 200
        listed = {k["key_id"]: k for k in c.get("/api-keys", headers=admin).json()}
        assert "api_key" not in listed[old["key_id"]]
        r = c.post(f"/api-keys/{old['key_id']}/revocation", json={"reason": "切换到新密钥"}, headers=admin)
        assert r.status_code == 200 and r.json()["revoked_at"]
        assert intake(old["api_key"]) == 401 and intake(new["api_key"]) == 200
        assert c.post(f"/api-keys/{old['key_id']}/revocation", json={"reason": "again"}, headers=admin).status_code == 404
        # Machine keys cannot manage keys, nor can they be given a person's role.
        assert c.get("/api-keys", headers={"X-Api-Key": new["api_key"]}).status_code == 403
        bad = c.post("/api-keys", json=request | {"roles": ["admin"]}, headers=admin)
        assert bad.status_code == 422 and "roles" in bad.json()["errors"][0]["field"]
        assert c.get(f"/indicators/{indicator}", headers={"X-Api-Key": new["api_key"]}).status_code == 200
