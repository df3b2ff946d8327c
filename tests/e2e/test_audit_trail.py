"""The audit trail (第二十八条): sign-ins, writes whatever their outcome, exports and reads of unmasked
personal data, each with who, from where, what, the outcome and the trace; searched by the administrator
and the supervision bureau only; a hash chain that names the entry someone altered."""

import asyncio
import json
import os
import re
import subprocess
import sys
from uuid import uuid4

import asyncpg
import httpx
import pytest

from backbone.bus import create_producer, to_message
from backbone.clock import clock
from backbone.settings import get_settings
from contracts.catalog import topic_for
from contracts.envelope import EventEnvelope, EventMetadata
from tests.e2e import db, people
from tests.e2e.conftest import ROOT, indicator_body, traced
from tests.e2e.exporting import cosign, request_export
from tests.e2e.test_registries import lookup, person, poor_file
from tests.e2e.test_scope_and_privacy import database_mentions
from tests.people import id_number
from tests.support.waiting import poll

pytestmark = pytest.mark.e2e
SHOWN = ("actor", "org_unit", "client_ip", "action", "target", "outcome")


def signed_in(subject: str, roles: list[str]) -> dict[str, str]:
    return people.signed_in(subject, roles, org_unit="220102" if "district" in roles else "220100")


def masked(number: str) -> str:
    return number[:6] + "********" + number[-4:]


def trail(c: httpx.Client, headers: dict[str, str], **filters) -> list[dict]:
    r = c.get("/audit", params={"limit": 1000} | filters, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def verify_command(database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway.audit", "verify"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env=os.environ | {"DATABASE_URL": database_url})


async def run_sql(database_url: str, *statements: str) -> object:
    """The statements in one transaction; the result of the last."""
    async with db.connected(database_url) as conn, conn.transaction():
        for statement in statements[:-1]:
            await conn.execute(statement)
        return await conn.fetchval(statements[-1])


async def deliver_again(servers, actor: str, sentinel: str) -> None:
    """Publish a stored reveal of `actor` once more, then a copy of it by `sentinel` behind it on its
    partition: once the sentinel's entry is in, the repeat has been consumed too."""
    [row] = await db.fetch(
        servers.database_url,
        "SELECT event_id, stream_id, stream_type, version, event_type, occurred_at, metadata::text AS metadata,"
        " payload::text AS payload FROM payments.events WHERE event_type = 'registry.PersonalDataRevealed'"
        " AND metadata->>'actor' = $1 ORDER BY position LIMIT 1", actor)
    original = EventEnvelope(**{**dict(row), "metadata": EventMetadata.model_validate_json(row["metadata"]),
                                "payload": json.loads(row["payload"])})
    copy = original.model_copy(update={"event_id": uuid4(),
                                       "metadata": original.metadata.model_copy(update={"actor": sentinel})})
    producer = create_producer(servers.settings())
    await producer.start()
    try:
        for envelope in (original, copy):
            key, value, headers = to_message(envelope)
            await producer.send_and_wait(topic_for("registry"), value=value, key=key, headers=headers)
    finally:
        await producer.stop()


def test_every_write_sign_in_export_and_reveal_is_recorded_and_an_altered_entry_is_named(stack, servers):
    s = get_settings()
    start = clock().now().isoformat()
    wrong_password = f"wrong-{uuid4().hex}"
    known, stranger = person(85), person(86)
    trace: dict[str, str] = {}
    with stack.client() as c:
        # A wrong password from a client that claims another address (no proxy is trusted), then the right one.
        trace["failed"], h = traced()
        r = c.post("/auth/token", json={"username": s.admin_user, "password": wrong_password},
                   headers=h | {"X-Forwarded-For": "203.0.113.9"})
        assert r.status_code == 401
        trace["login"], h = traced()
        r = c.post("/auth/token", json={"username": s.admin_user, "password": s.admin_password.get_secret_value()},
                   headers=h)
        admin = {"Authorization": f"Bearer {r.json()['access_token']}"}
        # A write; a write the treasury system may not make; an export.
        trace["write"], h = traced()
        assert c.post("/indicators", json=indicator_body("50.00"), headers=admin | h).status_code == 201
        trace["refused"], h = traced()
        assert c.post("/indicators", json=indicator_body("50.00"),
                      headers=stack.treasury_headers() | h).status_code == 403
        export_id = request_export(c, admin, "/ledger/export", {"fiscal_year": 2026})
        cosign(c, export_id).raise_for_status()
        trace["export"], h = traced()
        assert c.get(f"/exports/{export_id}/file", headers=admin | h).status_code == 200
        c.post("/registry/poor-population/import", headers=admin,
               files={"file": ("p.csv", poor_file([known]), "text/csv")}).raise_for_status()
        # Reads refused for the caller's roles, or for credentials that do not hold, are security events too.
        trace["refused read"], h = traced(signed_in("南关区财政局-赵", ["district"]))
        assert c.get("/audit", headers=h).status_code == 403
        trace["bad key"], h = traced({"X-Api-Key": "fw_not-a-key"})
        assert c.get("/alerts", headers=h).status_code == 401
    # Full ID numbers read by someone holding the PII permission: one on the registry, one not.
    reader = f"auditor-{uuid4().hex[:6]}"
    pii = people.forwarded(reader, ["supervision"], pii=True)
    payments = f"{stack.processes.url('payments')}/api/v1"
    trace["reveal"], h = traced()
    assert lookup(payments, id_number(known), pii | h).status_code == 200
    trace["unknown"], h = traced()
    assert lookup(payments, id_number(stranger), pii | h).json()["entries"] == []

    with stack.client() as c:
        def recorded() -> dict[str, dict] | None:
            found = {e["trace_id"]: e for e in trail(c, admin, since=start)}
            return found if set(trace.values()) <= found.keys() else None

        by_trace = poll(recorded)
        assert by_trace, "every request and read reaches the trail"
        assert {name: tuple(by_trace[t][f] for f in SHOWN) for name, t in trace.items()} == {
            "failed": (s.admin_user, None, "127.0.0.1", "auth.login_failed", "/api/v1/auth/token", "401"),
            "login": (s.admin_user, None, "127.0.0.1", "auth.login", "/api/v1/auth/token", "200"),
            "write": (s.admin_user, "220100", "127.0.0.1", "POST /api/v1/indicators", "/api/v1/indicators", "201"),
            "refused": ("treasury-system", "220100", "127.0.0.1", "POST /api/v1/indicators", "/api/v1/indicators",
                        "403"),
            "export": (s.admin_user, "220100", "127.0.0.1", "GET /api/v1/exports/{export_id}/file",
                       f"/api/v1/exports/{export_id}/file", "200"),
            "reveal": (reader, "220100", None, "personal_data.reveal", masked(id_number(known)), "found"),
            "unknown": (reader, "220100", None, "personal_data.reveal", masked(id_number(stranger)), "not_found"),
            "refused read": ("南关区财政局-赵", "220102", "127.0.0.1", "GET /api/v1/audit", "/api/v1/audit", "403"),
            "bad key": ("anonymous", None, "127.0.0.1", "GET /api/v1/alerts", "/api/v1/alerts", "401"),
        }
        # Neither the password tried nor a full ID number is kept.
        for secret in (wrong_password, id_number(known), id_number(stranger)):
            assert asyncio.run(database_mentions(servers.database_url, secret)) == []

        # Searching: by action prefix (newest first), part of the target, actor; pages follow one another.
        assert [e["action"] for e in trail(c, admin, action="auth.", actor=s.admin_user, since=start)] == [
            "auth.login", "auth.login_failed"]
        assert [e["trace_id"] for e in trail(c, admin, target=f"{export_id}/file", since=start)] == [trace["export"]]
        assert len(trail(c, admin, actor=reader)) == 2
        everything, pages, cursor = trail(c, admin, since=start), [], None
        while True:
            page = c.get("/audit", params={"since": start, "limit": 3} | ({"cursor": cursor} if cursor else {}),
                         headers=admin).json()
            pages += page["items"]
            if not (cursor := page["next_cursor"]):
                break
        assert pages == everything and len(everything) > 3
        naive = c.get("/audit", params={"since": "2026-03-01T10:00:00"}, headers=admin)
        assert naive.status_code == 422 and "since" in naive.json()["errors"][0]["field"]
        # The supervision bureau reads the trail; a district does not, nor does anyone unsigned.
        assert c.get("/audit", headers=signed_in("监督局-孙", ["supervision"])).status_code == 200
        assert c.get("/audit", headers=signed_in("南关区财政局-赵", ["district"])).status_code == 403
        assert c.get("/audit").status_code == 401
        assert c.get("/audit/verification", headers=signed_in("监督局-孙", ["supervision"])).status_code == 403

        # The same reveal event delivered again adds nothing.
        sentinel = f"sentinel-{uuid4().hex[:6]}"
        asyncio.run(deliver_again(servers, reader, sentinel))
        assert poll(lambda: trail(c, admin, actor=sentinel))
        assert len(trail(c, admin, actor=reader)) == 2

        # The chain holds, as the command and the API both say.
        total = asyncio.run(run_sql(servers.database_url, "SELECT count(*) FROM gateway.audit_log"))
        done = verify_command(servers.database_url)
        said, head = done.stdout.strip().splitlines()
        assert done.returncode == 0 and said.startswith("audit chain intact: "), done.stderr
        assert int(said.split(": ")[1].split()[0]) >= total, "the running gateway may have added entries since"
        assert re.fullmatch(r"head: [0-9a-f]{64}", head)
        verdict = c.get("/audit/verification", headers=admin).json()
        assert (verdict["intact"], verdict["entries"], verdict["broken"]) == (True, total, None)

        # The table refuses changes; making the refused write look accepted needs the trigger switched off.
        seq = by_trace[trace["refused"]]["seq"]
        for statement in (f"UPDATE gateway.audit_log SET outcome = '201' WHERE seq = {seq}",
                          f"DELETE FROM gateway.audit_log WHERE seq = {seq}", "TRUNCATE gateway.audit_log"):
            with pytest.raises(asyncpg.RaiseError, match="append-only"):
                asyncio.run(run_sql(servers.database_url, statement))

        def rewrite(outcome: str) -> None:
            asyncio.run(run_sql(servers.database_url,
                                "ALTER TABLE gateway.audit_log DISABLE TRIGGER audit_log_append_only",
                                f"UPDATE gateway.audit_log SET outcome = '{outcome}' WHERE seq = {seq}",
                                "ALTER TABLE gateway.audit_log ENABLE TRIGGER audit_log_append_only"))

        rewrite("201")
        try:
            broken = verify_command(servers.database_url)
            assert broken.returncode == 1
            assert broken.stdout.startswith(f"audit chain broken at entry {seq} (")
            assert "POST /api/v1/indicators: its content does not match its hash" in broken.stdout
            verdict = c.get("/audit/verification", headers=admin).json()
            assert (verdict["intact"], verdict["broken"]["seq"], verdict["broken"]["problem"]) == (False, seq, "content")
            assert verdict["message"] == broken.stdout.strip()
        finally:
            rewrite("403")
        assert verify_command(servers.database_url).returncode == 0
