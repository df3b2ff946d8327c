"""Exports in tests go the way of 第二十七条: requested, co-signed by the poverty office, downloaded once."""

import httpx

from tests.e2e.people import signed_in


def poverty_office() -> dict[str, str]:
    return signed_in("局脱贫办-周", ["poverty_office"])


def request_export(c: httpx.Client, headers: dict[str, str], path: str, params: dict | None = None,
                   purpose: str = "核对数据", recipient: str | None = None) -> str:
    """The id of a new export request."""
    r = c.post("/exports", headers=headers, json={"path": path, "params": params or {}, "purpose": purpose,
                                                  "recipient": recipient})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def cosign(c: httpx.Client, export_id: str, decision: str = "approved", opinion: str = "同意") -> httpx.Response:
    return c.post(f"/exports/{export_id}/cosignature", headers=poverty_office(),
                  json={"decision": decision, "opinion": opinion})


def co_signed_export(c: httpx.Client, headers: dict[str, str], path: str, params: dict | None = None) -> httpx.Response:
    """The file of an export requested by `headers`, approved by the poverty office, downloaded by the requester."""
    export_id = request_export(c, headers, path, params)
    cosign(c, export_id).raise_for_status()
    return c.get(f"/exports/{export_id}/file", headers=headers)
