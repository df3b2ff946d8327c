"""The past ledger (as_of) from end-of-day sums and the facts of the asked day: on either side of a day's end it
answers what folding every fact recorded before the instant gives."""

import asyncio
import json
from datetime import datetime, time, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaProducer

from backbone.bus import to_message
from backbone.clock import clock
from backbone.eventstore import envelope_from_row
from backbone.workdays import SHANGHAI
from contracts.catalog import topic_of_event
from contracts.envelope import EventEnvelope
from tests.e2e import db
from tests.e2e.conftest import indicator_body, payment_body
from tests.e2e.test_master_ledger import ledger
from tests.support.waiting import poll

pytestmark = pytest.mark.e2e


async def publish(kafka: str, envelopes: list[EventEnvelope]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka, enable_idempotence=False)
    await producer.start()
    try:
        for envelope in envelopes:
            key, value, headers = to_message(envelope)
            await producer.send_and_wait(topic_of_event(envelope.event_type), value=value, key=key, headers=headers)
    finally:
        await producer.stop()


def fold(database_url: str, indicator_id: str, cutoff: datetime) -> tuple[str, str]:
    """Paid and refunded on the indicator summed over every fact the ledger recorded before `cutoff`."""
    sums = db.rows(database_url, """
        SELECT (SELECT coalesce(sum(amount), 0) FROM ledger.indicator_payments
                WHERE indicator_id = $1 AND recorded_at < $2) AS paid,
               (SELECT coalesce(sum(amount), 0) FROM ledger.indicator_refunds
                WHERE indicator_id = $1 AND recorded_at < $2) AS refunded""", indicator_id, cutoff)[0]
    return f"{sums['paid']:.2f}", f"{sums['refunded']:.2f}"


def test_as_of_on_either_side_of_a_day_end_equals_the_fold_of_every_fact_before_it(stack, servers):
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    project, tag = f"snap-{uuid4().hex[:6]}", uuid4().hex[:8]
    with stack.client() as c:
        indicator = c.post("/indicators", headers=admin, json=indicator_body(
            "1000.00", budget_project=project)).json()["id"]
        c.post("/payments/batch", headers=treasury, json={"payments": [
            payment_body(f"{tag}-0", indicator, "1.00")]}).raise_for_status()
        assert poll(lambda: ledger(c, admin, budget_project=project)["totals"]["paid"] == "1.00")
        row = db.rows(servers.database_url, "SELECT * FROM payments.events WHERE stream_id = $1",
                      f"payment-{tag}-0")[0]
        recorded = envelope_from_row(row | {"metadata": json.loads(row["metadata"]),
                                            "payload": json.loads(row["payload"])})
        today = clock().local_now().date()
        day1, day2 = today + timedelta(days=1), today + timedelta(days=2)

        def at(day, hour: int) -> datetime:
            return datetime.combine(day, time(hour), tzinfo=SHANGHAI)

        def paid(n: int, amount: str, when: datetime) -> EventEnvelope:
            """A payment the treasury reported at `when` (the ledger records it as of then)."""
            return recorded.model_copy(update={"event_id": uuid4(), "stream_id": f"payment-{tag}-{n}",
                                               "occurred_at": when, "payload": recorded.payload | {
                                                   "payment_id": f"{tag}-{n}", "amount": amount}})

        refund = recorded.model_copy(update={
            "event_id": uuid4(), "event_type": "payments.PaymentRefunded", "stream_id": f"payment-{tag}-1",
            "occurred_at": at(day2, 11), "payload": {
                "payment_id": f"{tag}-1", "refund_id": f"{tag}-r", "indicator_id": indicator, "kind": "refund",
                "amount": "20.00", "refunded_total": "20.00", "refunded_at": at(day2, 11).isoformat(),
                "reason": "退回", "content_hash": recorded.payload["content_hash"]}})
        first = paid(1, "100.00", at(day1, 10))
        # The last one was recorded on the first day but reaches the ledger after the second day's: it counts on
        # both; the first is delivered twice and counts once.
        asyncio.run(publish(servers.kafka_bootstrap, [first, paid(2, "40.00", at(day2, 9)), refund,
                                                      paid(3, "7.00", at(day1, 15)), first]))
        assert poll(lambda: ledger(c, admin, budget_project=project)["totals"]["paid"] == "148.00")
        live = ledger(c, admin, budget_project=project)
        assert live["totals"]["refunded"] == "20.00"

        expected = {at(day1, 9): ("1.00", "0.00"), at(day1, 12): ("101.00", "0.00"),
                    # Either side of the first day's end: the day's facts folded, then its end-of-day sums.
                    at(day2, 0) - timedelta(microseconds=1): ("108.00", "0.00"), at(day2, 0): ("108.00", "0.00"),
                    at(day2, 10): ("148.00", "0.00"), at(day2, 12): ("148.00", "20.00")}
        for instant, (paid_then, refunded_then) in expected.items():
            page = ledger(c, admin, budget_project=project, as_of=instant.isoformat())
            assert (page["totals"]["paid"], page["totals"]["refunded"]) == (paid_then, refunded_then) \
                == fold(servers.database_url, indicator, instant), instant
            available = Decimal("1000.00") - Decimal(paid_then) + Decimal(refunded_then)
            assert [i["available"] for i in page["items"]] == [f"{available:.2f}"], instant
        # The end of the second day, asked by its date, is the ledger now.
        then = ledger(c, admin, budget_project=project, as_of=day2.isoformat())
        assert (then["items"], then["totals"]) == (live["items"], live["totals"])
