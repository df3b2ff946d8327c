"""Every input event of alerting delivered twice: the same alerts, at the same versions, no more."""

import asyncio
import json
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaProducer

from backbone.bus import to_message
from backbone.eventstore import envelope_from_row
from contracts.catalog import topic_of_event
from tests.e2e import db
from tests.e2e.conftest import indicator_body, payment_body
from tests.support.waiting import poll

pytestmark = pytest.mark.e2e


async def redeliver(database_url: str, kafka: str, streams: list[str],
                    schemas: tuple[str, ...] = ("ledger", "payments")) -> int:
    """Publish the stored events of these streams (kept by these services) again, as the relay would after a crash
    before its delete."""
    rows = []
    for schema in schemas:
        rows += await db.fetch(database_url, f"SELECT * FROM {schema}.events WHERE stream_id = ANY($1)"
                               " ORDER BY position", streams)
    producer = AIOKafkaProducer(bootstrap_servers=kafka, enable_idempotence=False)
    await producer.start()
    try:
        for row in rows:
            envelope = envelope_from_row(dict(row) | {"metadata": json.loads(row["metadata"]),
                                                      "payload": json.loads(row["payload"])})
            key, value, headers = to_message(envelope)
            await producer.send_and_wait(topic_of_event(envelope.event_type), value=value, key=key, headers=headers)
    finally:
        await producer.stop()
    return len(rows)


def test_duplicate_delivery_of_every_input_event_changes_no_alert(stack, servers):
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    tag = uuid4().hex[:8]
    with stack.client() as c:
        indicator = c.post("/indicators", json=indicator_body("1000.00", received_on=None), headers=admin).json()["id"]
        payments = [payment_body(f"{tag}-{n}", indicator, amount, settlement_method=method, purpose=purpose)
                    for n, (amount, method, purpose) in enumerate([
                        ("600.00", "transfer", "产业发展补助"), ("2000.00", "cash", "务工补助"),
                        ("100.00", "transfer", "会议及招待费"), ("300.00", "cash", "务工补助")])]
        c.post("/payments/batch", json={"payments": payments}, headers=treasury).raise_for_status()

        def mine():
            items = c.get("/alerts", params={"limit": 1000}, headers=admin).json()["items"]
            return {a["id"]: (a["rule_number"], a["version"], a["occurrences"]) for a in items
                    if a["subject"]["id"].startswith(tag) or a["subject"]["id"] == indicator}
        # ZB-004 (no receipt date), ZC-001 for each of the last three (the 600.00 fits), ZC-003 (cash 2000.00), ZC-006.
        expected = {"ZB-004", "ZC-001", "ZC-003", "ZC-006"}
        assert poll(lambda: {r for r, _, _ in mine().values()} >= expected and len(mine()) == 6, timeout=30), mine()

        def settled(marker: str, count: int) -> dict:
            """The alerts once a new payment on the same indicator, which travels on the same partition behind
            everything before it, has its own alert: whatever came before it has been consumed."""
            c.post("/payments/batch", headers=treasury, json={"payments": [
                payment_body(f"{tag}-{marker}", indicator, "1.00")]}).raise_for_status()
            assert poll(lambda: len(mine()) == count, timeout=30), mine()
            return mine()

        before = settled("before", 7)
        streams = [f"indicator-{indicator}"] + [f"payment-{p['payment_id']}" for p in payments]
        assert asyncio.run(redeliver(servers.database_url, servers.kafka_bootstrap, streams)) == 5
        after = settled("after", 8)
        assert {k: v for k, v in after.items() if k in before} == before and len(after) == len(before) + 1
