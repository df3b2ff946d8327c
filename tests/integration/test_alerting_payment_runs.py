"""A run of payments and refunds judged at once (payment_runs, on_refunds) gives exactly what judging them one by one
gives: the same alerts, levels, explanations, alert streams, balances and observed payments."""

from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import groupby
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import select

from backbone.eventstore import EventStore
from contracts.envelope import EventEnvelope, EventMetadata
from backbone.consumer import apply_one
from contracts.ledger import IndicatorRegistered
from contracts.payments import PaymentRecorded, PaymentRefunded
from services.alerting import app as alerting_app, scheduler
from services.alerting.consumers import AlertingConsumers
from services.alerting.deadlines import watch_id_for
from services.alerting.projections import alerts, balances, observed_payments, watches
from services.alerting.rules.book import RULEBOOK

pytestmark = pytest.mark.integration

_TIMES = {"raised_at", "updated_at", "step_since", "at", "started_at", "settled_at", "due_at"}
IDLE = "spending.funds_idle"  # a payment meets its clock


def _payment(tag: str, n: int, indicator: str | None, amount: str, *, person: str | None = None, cash: bool = False,
             purpose: str = "产业发展补助", poor: bool = True, day: int = 2, payment_id: str | None = None
             ) -> EventEnvelope:
    registry = ({"poor_status": "not_lifted" if poor else None, "poor_org_unit": "220102", "public_employee": False,
                 "employer": None, "name_matches": True, "registered_name": None} if person else None)
    e = PaymentRecorded(
        payment_id=payment_id or f"{tag}-p{n}", indicator_id=indicator, payer_name="南关区农业农村局",
        payer_account="0710001200000001", amount=Decimal(amount), paid_at=datetime(2026, 3, day, 2, tzinfo=UTC),
        purpose=purpose, settlement_method="cash" if cash else "transfer", payment_method="direct",
        payee_name="收款人", payee_account=f"6222{tag}{person or n}", payee_type="person" if person else "organization",
        payee_id_masked="220102********1234" if person else None,
        payee_id_index=f"{tag}{person}".ljust(64, "0") if person else None, payee_registry=registry,
        org_unit="220102", content_hash="test")
    return EventEnvelope(event_id=uuid4(), stream_id=f"payment-{e.payment_id}", stream_type="payment", version=1,
                         event_type=e.event_type, occurred_at=datetime.now(UTC),
                         metadata=EventMetadata(actor="treasury", source="payments"),
                         payload=e.model_dump(mode="json"), partition_key=f"indicator-{indicator}")


def _refund(tag: str, n: int, indicator: str | None, amount: str) -> EventEnvelope:
    e = PaymentRefunded(payment_id=f"{tag}-p{n}", refund_id=f"{tag}-r{n}-{amount}", indicator_id=indicator,
                        kind="refund", amount=Decimal(amount), refunded_total=Decimal(amount),
                        refunded_at=datetime(2026, 3, 3, 2, tzinfo=UTC), reason="退回", content_hash="test")
    return EventEnvelope(event_id=uuid4(), stream_id=f"payment-{e.payment_id}", stream_type="payment", version=2,
                         event_type=e.event_type, occurred_at=datetime.now(UTC),
                         metadata=EventMetadata(actor="treasury", source="payments"),
                         payload=e.model_dump(mode="json"), partition_key=f"indicator-{indicator}")


def sequence(tag: str) -> tuple[list[dict[str, Any]], list[EventEnvelope]]:
    """Indicators (a tight one, an ample one, one with a registered amount of zero) and a run of payments on them:
    overdraws one after another, cash above the limit, cash adding up over the month for one person, a person paid
    twice for one purpose, a payee not on the list, an unknown indicator, no indicator, a suspended indicator (暂缓拨付)
    and a repeated payment."""
    tight, ample, unknown, held = f"{tag}-tight", f"{tag}-ample", f"{tag}-unknown", f"{tag}-held"
    known = [dict(indicator_id=tight, amount=Decimal("100.00"), allocated=Decimal("0"), paid=Decimal("40.00"),
                  refunded=Decimal("5.00"), fiscal_year=2026, org_unit="220102", owner_division="agriculture",
                  suspended=False),
             dict(indicator_id=ample, amount=Decimal("1000000.00"), allocated=Decimal("1000.00"), paid=Decimal("0"),
                  refunded=Decimal("0"), fiscal_year=2026, org_unit="220102", owner_division="civil_affairs",
                  suspended=False),
             dict(indicator_id=held, amount=Decimal("500.00"), allocated=Decimal("0"), paid=Decimal("0"),
                  refunded=Decimal("0"), fiscal_year=2026, org_unit="220103", owner_division="agriculture",
                  suspended=True)]
    payments = [
        _payment(tag, 1, tight, "50.00"),
        _payment(tag, 2, tight, "30.00"),  # overdraws by 15
        _payment(tag, 3, ample, "2000.00", person="a", cash=True),
        _payment(tag, 4, tight, "10.00"),  # overdraws further: the same indicator again
        _payment(tag, 5, ample, "2500.00", person="a", cash=True, day=9),
        _payment(tag, 6, ample, "900.00", person="a", cash=True, day=20),  # the month's cash passes 5000
        _payment(tag, 7, ample, "10.00", person="b", purpose="临时救助", poor=False),
        _payment(tag, 8, ample, "10.00", person="b", purpose="临时救助", day=12),  # twice within 30 days
        _payment(tag, 9, unknown, "70.00", person="c"),
        _payment(tag, 10, None, "20.00"),
        _payment(tag, 11, ample, "3000.00", person="a", cash=True, day=25),
        _payment(tag, 12, tight, "1.00"),
        _payment(tag, 13, held, "20.00"),  # on a suspended indicator: red
    ]
    repeat = _payment(tag, 2, tight, "30.00")  # the second payment once more, under another event id
    # Money back on the tight indicator between its payments (the 4th then overdraws less, the 12th not at all), two
    # refunds in a row, and one on an indicator alerting does not know.
    back = [_refund(tag, 2, tight, "8.00"), _refund(tag, 1, tight, "4.00"), _refund(tag, 9, unknown, "70.00")]
    return known, payments[:3] + back[:2] + payments[3:6] + [repeat] + payments[6:10] + back[2:] + [
        _refund(tag, 4, tight, "10.00")] + payments[10:]


async def outcome(conn, tag: str) -> dict[str, Any]:
    like = f"{tag}%"
    rows = (await conn.execute(select(alerts).where(alerts.c.subject_id.like(like) | alerts.c.indicator_id.like(like))
                               .order_by(alerts.c.alert_id))).mappings().all()
    found = [{k: v for k, v in row.items() if k not in _TIMES} for row in rows]
    ev = alerting_app.spec.tables.events
    streams = [f"alert-{row['alert_id']}" for row in rows]
    events = (await conn.execute(select(ev.c.stream_id, ev.c.version, ev.c.event_type, ev.c.payload)
                                 .where(ev.c.stream_id.in_(streams)).order_by(ev.c.stream_id, ev.c.version))).all()
    money = (await conn.execute(select(balances).where(balances.c.indicator_id.like(like))
                                .order_by(balances.c.indicator_id))).mappings().all()
    seen = (await conn.execute(select(observed_payments.c.payment_id, observed_payments.c.evaluated,
                                      observed_payments.c.event_id)
                               .where(observed_payments.c.payment_id.like(like)).order_by(observed_payments.c.seq)
                               )).all()
    clocks = (await conn.execute(select(watches).where(watches.c.subject_id.like(like))
                                 .order_by(watches.c.watch_id))).mappings().all()
    return {"alerts": found, "balances": [dict(m) for m in money], "observed": [tuple(s) for s in seen],
            "clocks": [{k: v for k, v in c.items() if k not in _TIMES} for c in clocks],
            "events": [(s, v, t, {k: x for k, x in p.items() if k not in _TIMES}) for s, v, t, p in events]}


def alerting_consumers() -> AlertingConsumers:
    """Alerting's consumers over its own event store, with its inline projections (the alerts, their clocks)."""
    return AlertingConsumers(EventStore(alerting_app.spec.tables, source="alerting",
                                        inline_projections=list(alerting_app.spec.inline_projections)))


async def judged(engine, tag: str, batched: list[list[EventEnvelope]] | None,
                 one_by_one: list[EventEnvelope]) -> dict[str, Any]:
    """What alerting holds after the payments, judged in runs or one by one; rolled back after."""
    known, _ = sequence(tag)
    consumers = alerting_consumers()
    store = consumers.store
    async with engine.connect() as conn:
        transaction = await conn.begin()
        try:
            await conn.execute(balances.insert(), known)
            # The ample indicator's idle-funds clock runs; the others' are settled ahead by their first payment.
            ample = known[1]["indicator_id"]
            await conn.execute(watches.insert().values(
                watch_id=watch_id_for(IDLE, ample), rule_id=IDLE, subject_id=ample, state="waiting",
                counts_from=date(2026, 3, 1), bell_at=datetime(2026, 12, 1, tzinfo=UTC),
                due_at=datetime(2026, 12, 31, tzinfo=UTC), period="2026", org_unit="220102",
                owner_division="civil_affairs", facts={}, started_at=datetime(2026, 3, 1, tzinfo=UTC)))
            if batched is None:
                for env in one_by_one:  # as each event was handled before runs: judged, then by the clocks
                    if env.event_type == PaymentRefunded.event_type:
                        await consumers.on_payment_refunded(conn, env)
                    else:
                        await consumers.on_payment_recorded(conn, env)
                    await scheduler.on_event(conn, store, RULEBOOK.year().deadline, env)
            else:
                handlers = consumers.handlers()
                for run in batched:
                    # As the consumer runner hands them over: consecutive events of one handler at once.
                    for event_type, same in groupby(run, key=lambda env: env.event_type):
                        events = list(same)
                        if len(events) == 1:
                            await apply_one(handlers[event_type], conn, events[0])
                        else:
                            await handlers[event_type].apply(conn, events)
            return await outcome(conn, tag)
        finally:
            await transaction.rollback()


async def test_a_run_judged_at_once_gives_what_one_by_one_gives(engine):
    tag = f"run{uuid4().hex[:8]}"
    _, payments = sequence(tag)
    expected = await judged(engine, tag, None, payments)
    rules = {a["rule_id"] for a in expected["alerts"]}
    assert {"spending.payment_exceeds_available", "spending.cash_above_limit", "spending.cash_monthly_total",
            "per_person.paid_twice_for_same_purpose", "per_person.payee_not_registered_poor",
            "spending.payment_without_indicator", "spending.paid_while_suspended"} <= rules, rules
    assert any(a["occurrences"] > 1 for a in expected["alerts"]), "a repeated breach updates its alert"
    assert {(c["subject_id"].removeprefix(tag), c["state"]) for c in expected["clocks"]} >= {
        ("-ample", "met"), ("-tight", "met")}, expected["clocks"]
    assert await judged(engine, tag, [payments], []) == expected
    # Split anywhere (as the runner splits a partition's batch), the runs still give the same.
    assert await judged(engine, tag, [payments[:4], payments[4:9], payments[9:]], []) == expected
    assert await judged(engine, tag, [payments[:5], payments[5:13], payments[13:]], []) == expected
    assert await judged(engine, tag, [[p] for p in payments], []) == expected


async def test_a_run_seen_again_creates_nothing_new(engine):
    tag = f"again{uuid4().hex[:8]}"
    _, payments = sequence(tag)
    once = await judged(engine, tag, [payments], [])
    # A payment is observed once whatever its event; a refund's event seen again is skipped by the runner's claim of
    # its event id (processed_events) before any handler, so only the payments come again here.
    again = [env for env in payments if env.event_type == PaymentRecorded.event_type]
    assert await judged(engine, tag, [payments, again], []) == once


def _registered(tag: str, n: int, amount: str, org_unit: str, *, parent: int | None = None, level: str = "central",
                issued_on: date | None = date(2026, 3, 2), poverty_tag: bool = True) -> EventEnvelope:
    e = IndicatorRegistered(
        indicator_id=f"{tag}-i{n}", doc_no=f"吉财农指〔2026〕{n}号", fund_name="衔接推进乡村振兴补助资金",
        fund_nature="general_budget", function_code="2130505", economic_code="50901", budget_project="项目",
        amount=Decimal(amount), fiscal_year=2026, level=level, issued_on=issued_on, received_on=date(2026, 3, 3),
        registered_on=date(2026, 3, 4), owner_division="agriculture", org_unit=org_unit, poverty_tag=poverty_tag,
        parent_id=f"{tag}-i{parent}" if parent else None)
    return EventEnvelope(event_id=uuid4(), stream_id=f"indicator-{e.indicator_id}", stream_type="indicator",
                         version=1, event_type=e.event_type, occurred_at=datetime(2026, 3, 4, 2, tzinfo=UTC),
                         metadata=EventMetadata(actor="admin", source="ledger"), payload=e.model_dump(mode="json"))


async def registrations_applied(engine, tag: str, runs: list[list[EventEnvelope]] | None,
                                events: list[EventEnvelope]) -> dict[str, Any]:
    """What alerting holds after the registrations, in runs to the batched handler or (None) each as the plain
    handler and its clocks took it before; rolled back after."""
    consumers = alerting_consumers()
    async with engine.connect() as conn:
        transaction = await conn.begin()
        try:
            if runs is None:
                handle = consumers._with_clocks(consumers.on_indicator_registered)
                for env in events:
                    await handle(conn, env)
            else:
                registered = consumers.handlers()[IndicatorRegistered.event_type]
                for run in runs:
                    await registered.apply(conn, run)
            return await outcome(conn, tag)
        finally:
            await transaction.rollback()


async def test_an_import_registered_in_runs_gives_what_one_by_one_gives(engine):
    """An import's registrations taken a run at once: the same balances (a parent's share given to its children),
    the same alerts (ZB-001 registered late, ZB-004 elements missing) and the same clocks (ZB-002, ZB-003, JX-001,
    ZC-007 started, ZC-009 settled ahead), however the runs are cut."""
    tag = f"reg{uuid4().hex[:8]}"
    events = [_registered(tag, 1, "1000.00", "220100"), _registered(tag, 2, "600.00", "220102", parent=1),
              _registered(tag, 3, "300.00", "220103", parent=1), _registered(tag, 4, "50.00", "220102", level="city",
                                                                             issued_on=date(2026, 1, 5)),
              _registered(tag, 5, "70.00", "220104", level="province", poverty_tag=False),
              _registered(tag, 6, "20.00", "220102", parent=2)]
    expected = await registrations_applied(engine, tag, None, events)
    assert {a["rule_id"] for a in expected["alerts"]} == {"indicator.registered_late",
                                                          "indicator.elements_incomplete"}, expected["alerts"]
    parent = next(b for b in expected["balances"] if b["indicator_id"] == f"{tag}-i1")
    assert parent["allocated"] == Decimal("900.00")
    assert {c["rule_id"] for c in expected["clocks"]} >= {"indicator.not_allocated_in_time", "spending.funds_idle",
                                                          "spending.payment_indicator_unknown"}, expected["clocks"]
    for runs in ([events], [events[:2], events[2:5], events[5:]], [[e] for e in events]):
        assert await registrations_applied(engine, tag, runs, []) == expected
