"""Data scope on alerts (list and stream) and no ID number in any log line."""

import asyncio
import json
import time
from uuid import uuid4

import httpx
import pytest

from tests.e2e import db, people, quiet
from tests.e2e.conftest import indicator_body, payment_body
from tests.e2e.test_walking_skeleton import OVERDRAW, alerts_of
from tests.support.waiting import poll

pytestmark = pytest.mark.e2e
# Checksum-valid resident ID numbers (GB 11643) made up for tests.
PERSON_ID = "11010519491231002X"


def as_district(org_unit: str) -> dict[str, str]:
    """A district's person signed in at the gateway: scope is checked as the gateway forwards it."""
    return people.signed_in(f"district-{org_unit}", ["district"], org_unit=org_unit)


def overdraw(c, admin, treasury, org_unit: str) -> str:
    indicator_id = c.post("/indicators", json=indicator_body("100.00", org_unit=org_unit), headers=admin).json()["id"]
    tag = uuid4().hex[:8]
    c.post("/payments/batch", json={"payments": [payment_body(f"{tag}-1", indicator_id, "150.00", org_unit=org_unit)]},
           headers=treasury)
    assert poll(lambda: alerts_of(c, admin, indicator_id)), "no alert raised"
    return indicator_id


def stream_events(url: str, headers: dict[str, str], seconds: float) -> list[dict]:
    """Everything a stream sends within `seconds`."""
    got: list[dict] = []
    deadline = time.monotonic() + seconds
    try:
        with httpx.stream("GET", url, headers=headers, timeout=httpx.Timeout(seconds, read=seconds)) as s:
            for line in s.iter_lines():
                if line.startswith("data:"):
                    got.append(json.loads(line[5:]))
                if time.monotonic() > deadline:
                    break
    except httpx.ReadTimeout:
        pass
    return got


def test_a_district_sees_only_its_own_alerts_in_the_list_and_on_the_stream(stack):
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    with stack.client() as c:
        mine = overdraw(c, admin, treasury, "220103")
        theirs = overdraw(c, admin, treasury, "220104")
    alerting = f"{stack.gateway}/api/v1"
    listed = httpx.get(f"{alerting}/alerts", params={"rule": OVERDRAW, "limit": 1000},
                       headers=as_district("220103")).json()["items"]
    indicators = {a["subject"]["indicator_id"] for a in listed}
    assert mine in indicators and theirs not in indicators
    assert {a["org_unit"] for a in listed} == {"220103"}
    # Nor does a district open another's alert, or act on it, by its id.
    with stack.client() as c:
        their_alert = alerts_of(c, admin, theirs)[0]["id"]
    assert httpx.get(f"{alerting}/alerts/{their_alert}", headers=as_district("220103")).status_code == 404
    assert httpx.post(f"{alerting}/alerts/{their_alert}/dispositions", headers=as_district("220103"), json={
        "action": "confirm_violation", "method": "调阅材料", "findings": "现金发放补助",
        "violation_type": "其他", "rectification": "改为转账发放"}).status_code == 404
    # From the start of the feed, the district's stream carries its own alerts and no one else's.
    seen = stream_events(f"{alerting}/alerts/stream", as_district("220103") | {"Last-Event-ID": "0-0"}, 3)
    # A raised alert names its subject; a step of one already raised (a clock's bell turning yellow) names the alert.
    assert mine in {e["subject"]["indicator_id"] for e in seen if "subject" in e}
    assert {e["org_unit"] for e in seen} == {"220103"}


def test_a_stream_resumes_after_last_event_id_without_repeating(stack):
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    alerting = f"{stack.gateway}/api/v1"
    with stack.client() as c:
        first = overdraw(c, admin, treasury, "220105")
        everything = stream_events(f"{alerting}/alerts/stream", as_district("220105") | {"Last-Event-ID": "0-0"}, 2)
        assert everything and everything[-1]["subject"]["indicator_id"] == first
        with httpx.stream("GET", f"{alerting}/alerts/stream", timeout=10,
                          headers=as_district("220105") | {"Last-Event-ID": "0-0"}) as s:
            last_id = next(line[3:].strip() for line in s.iter_lines() if line.startswith("id:"))
        second = overdraw(c, admin, treasury, "220105")
    resumed = stream_events(f"{alerting}/alerts/stream", as_district("220105") | {"Last-Event-ID": last_id}, 2)
    indicators = [e["subject"]["indicator_id"] for e in resumed]
    assert second in indicators and indicators.count(second) == 1
    assert len(resumed) == len(everything), "resuming after the first event sends the rest, once"


def test_no_id_number_reaches_a_log_line_an_event_or_a_response(stack, servers):
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    wrong = PERSON_ID[:-1] + "1"
    with stack.client() as c:
        indicator_id = c.post("/indicators", json=indicator_body("1000.00"), headers=admin).json()["id"]
        tag = uuid4().hex[:8]
        records = [payment_body(f"{tag}-ok", indicator_id, "10.00", payee_type="person", payee_name="张三",
                                payee_id_number=PERSON_ID),
                   payment_body(f"{tag}-bad", indicator_id, "10.00", payee_type="person", payee_name="李四",
                                payee_id_number=wrong)]
        result = c.post("/payments/batch", json={"payments": records}, headers=treasury)
        assert result.json()["accepted"] == 1 and wrong not in result.text
        listed = c.get("/payments", params={"indicator_id": indicator_id}, headers=admin)
        assert listed.json()["items"][0]["payee_id_masked"] == "110105********002X" and PERSON_ID not in listed.text
        # Found by the full number through the blind index, without the number being kept in the clear.
        searcher = f"稽核-{tag}"
        found = c.post("/payments/search", json={"payee_id_number": PERSON_ID},
                       headers=people.signed_in(searcher, ["supervision"], pii=True)).json()
        assert f"{tag}-ok" in {p["payment_id"] for p in found["items"]}
        # Without the PII permission, no search by ID number; with it, each search is an audit event.
        assert c.post("/payments/search", json={"payee_id_number": PERSON_ID}, headers=admin).status_code == 403
        reveals = db.rows(servers.database_url, "SELECT payload->>'what' AS what, payload->>'found' AS found FROM "
                          "payments.events WHERE event_type = 'registry.PersonalDataRevealed' AND "
                          "metadata->>'actor' = $1", searcher)
        assert [(r["what"], r["found"]) for r in reveals] == [("payments_by_payee", "true")]
        # Let the event travel through the relay and every consumer.
        assert poll(lambda: c.get(f"/indicators/{indicator_id}", headers=admin).json()["balance"]["paid"] == "10.00")
    quiet.settle(servers)
    for log in stack.processes.log_dir.glob("*.log"):
        text = log.read_text(encoding="utf-8", errors="replace")
        assert PERSON_ID not in text and wrong not in text, f"an ID number is in {log.name}"
    # Nor in any stored event or table of any service: only ciphertext, masks and blind indexes.
    assert asyncio.run(database_mentions(servers.database_url, PERSON_ID)) == []


async def database_mentions(database_url: str, needle: str) -> list[str]:
    """Every table (schema.table) of the services whose rows contain the text."""
    async with db.connected(database_url) as conn:
        tables = await conn.fetch("SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema"
                                  " IN ('ledger','payments','alerting','performance','sync','gateway')"
                                  " AND table_type = 'BASE TABLE'")
        found = []
        for t in tables:
            name = f'"{t["table_schema"]}"."{t["table_name"]}"'
            if await conn.fetchval(f"SELECT count(*) FROM {name} x WHERE x::text ILIKE $1", f"%{needle}%"):
                found.append(name)
        return found
