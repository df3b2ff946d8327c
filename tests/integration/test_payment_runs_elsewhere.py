"""Sync's rollup facts and performance's spending take payments and refunds in runs: a run applied at once leaves
exactly the rows that applying its events one by one leaves, however it is cut."""

from datetime import UTC, datetime
from decimal import Decimal
from itertools import groupby
from uuid import uuid4

import pytest
from sqlalchemy import insert, select

from contracts.envelope import EventEnvelope, EventMetadata
from contracts.payments import PaymentRecorded, PaymentRefunded
from services.performance import consumers as performance
from services.performance.projections import indicators as performance_indicators
from services.sync import consumers as sync
from services.sync.projections import movements

pytestmark = pytest.mark.integration


def _envelope(event: PaymentRecorded | PaymentRefunded, version: int) -> EventEnvelope:
    return EventEnvelope(event_id=uuid4(), stream_id=f"payment-{event.payment_id}", stream_type="payment",
                         version=version, event_type=event.event_type, occurred_at=datetime.now(UTC),
                         metadata=EventMetadata(actor="treasury", source="payments"),
                         payload=event.model_dump(mode="json"), partition_key=f"indicator-{event.indicator_id}")


def _paid(tag: str, n: int, indicator: str | None, amount: str, day: int) -> EventEnvelope:
    return _envelope(PaymentRecorded(
        payment_id=f"{tag}-p{n}", indicator_id=indicator, payer_name="南关区农业农村局",
        payer_account="0710001200000001", amount=Decimal(amount), paid_at=datetime(2026, 3, day, 17, tzinfo=UTC),
        purpose="产业发展补助", settlement_method="transfer", payment_method="direct", payee_name="合作社",
        payee_account=f"6222{tag}{n}", payee_type="organization", org_unit="220102", content_hash="test"), 1)


def _refunded(tag: str, n: int, indicator: str, amount: str) -> EventEnvelope:
    return _envelope(PaymentRefunded(
        payment_id=f"{tag}-p{n}", refund_id=f"{tag}-r{n}", indicator_id=indicator, kind="refund",
        amount=Decimal(amount), refunded_total=Decimal(amount), refunded_at=datetime(2026, 3, 3, 2, tzinfo=UTC),
        reason="退回", content_hash="test"), 2)


def _events(tag: str) -> list[EventEnvelope]:
    """Payments on two indicators over two Beijing days (17:00 UTC is the next day there), one without an
    indicator, one on an indicator performance has not learned yet, and refunds between them."""
    a, b, unknown = f"{tag}-a", f"{tag}-b", f"{tag}-new"
    return [_paid(tag, 1, a, "100.00", 1), _paid(tag, 2, b, "20.50", 1), _paid(tag, 3, a, "0.01", 2),
            _refunded(tag, 1, a, "40.00"), _paid(tag, 4, None, "9.00", 2), _paid(tag, 5, unknown, "7.00", 2),
            _paid(tag, 6, b, "1.00", 3), _refunded(tag, 2, b, "20.50"), _paid(tag, 7, a, "3.00", 3)]


async def _applied(engine, tag: str, events: list[EventEnvelope], cuts: list[int] | None) -> tuple[list, list]:
    """What sync and performance hold after the events, applied in runs cut at `cuts` (None: one by one), each
    run of one kind going to its batched handler as the consumer runner hands it over; rolled back after."""
    if cuts is None:
        runs = [[e] for e in events]
    else:
        bounds = [0, *cuts, len(events)]
        runs = [list(run) for start, end in zip(bounds, bounds[1:], strict=False)
                for _, run in groupby(events[start:end], key=lambda e: e.event_type)]
    async with engine.connect() as conn:
        transaction = await conn.begin()
        try:
            await conn.execute(insert(performance_indicators), [
                {"indicator_id": f"{tag}-{k}", "fiscal_year": 2026, "org_unit": "220102",
                 "owner_division": "agriculture", "doc_no": k, "fund_name": "f", "amount": Decimal("1000.00"),
                 "paid": 0, "refunded": 0} for k in ("a", "b")])
            for run in runs:
                await sync.BATCHED[run[0].event_type].apply(conn, run)
                await (performance.on_paid if run[0].event_type == PaymentRecorded.event_type
                       else performance.on_refunded)(conn, run)
            moved = (await conn.execute(select(movements.c.indicator_id, movements.c.kind, movements.c.amount,
                                               movements.c.on_date)
                                        .where(movements.c.indicator_id.like(f"{tag}-%"))
                                        .order_by(movements.c.indicator_id, movements.c.kind, movements.c.on_date,
                                                  movements.c.amount))).all()
            spent = (await conn.execute(select(performance_indicators.c.indicator_id, performance_indicators.c.paid,
                                               performance_indicators.c.refunded)
                                        .where(performance_indicators.c.indicator_id.like(f"{tag}-%"))
                                        .order_by(performance_indicators.c.indicator_id))).all()
            return moved, spent
        finally:
            await transaction.rollback()


async def test_runs_of_payments_leave_what_one_by_one_leaves_in_sync_and_performance(engine):
    tag = uuid4().hex[:8]
    events = _events(tag)
    expected = await _applied(engine, tag, events, None)
    moved, spent = expected
    # Every payment and refund with an indicator is a fact on its Beijing day; the sums are performance's.
    assert len(moved) == 8
    assert [(r.indicator_id[-1], r.paid, r.refunded) for r in spent] == [
        ("a", Decimal("103.01"), Decimal("40.00")), ("b", Decimal("21.50"), Decimal("20.50")),
        ("w", Decimal("7.00"), Decimal("0.00"))]
    for cuts in ([], [3], [1, 4, 6], list(range(1, len(events)))):
        assert await _applied(engine, tag, events, cuts) == expected, cuts
