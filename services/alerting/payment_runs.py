"""Payments judged a run at a time: a treasury batch of 500 costs a few multi-row statements, not a few round trips
each. The judgments are those of judging the payments one by one in the run's order (see AlertingConsumers)."""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.clock import clock
from backbone.eventstore import EventStore, StreamAppend
from contracts.envelope import EventEnvelope
from contracts.payments import PaymentRecorded
from services.alerting import scheduler
from services.alerting.domain import raise_alert
from services.alerting.projections import (alerts, balance_of, balances, mark_evaluated, observed_payments,
                                           windows_of_run)
from services.alerting.raising import ACTOR, AlertNow, next_alert_event, note_raised
from services.alerting.rules import Rule
from services.alerting.rules.book import rules_in_force
from services.alerting.rules.engine import Breach, IndicatorBalance, in_window, judge_payment, payment_facts

log = structlog.get_logger(__name__)

_OBSERVE = pg_insert(observed_payments).on_conflict_do_nothing().returning(
    observed_payments.c.payment_id, observed_payments.c.seq)
_new = pg_insert(balances)
# The row locks of this upsert order concurrent runs on one indicator, as the one-by-one path's does.
_ADD_PAID = _new.on_conflict_do_update(index_elements=[balances.c.indicator_id],
                                       set_={"paid": balances.c.paid + _new.excluded.paid}).returning(*balances.c)


@dataclass
class _Judged:
    """A payment observed for the first time in this run, with what it is judged on."""

    envelope: EventEnvelope
    payment: dict[str, Any]
    seq: int
    balance: IndicatorBalance | None
    year: int
    event_rules: list[Rule]
    window_rules: list[Rule]


async def on_payments(conn: AsyncConnection, store: EventStore, envelopes: list[EventEnvelope]) -> None:
    """Observe the run's payments, count them against their indicators and judge them in the run's order."""
    recorded: dict[str, tuple[EventEnvelope, PaymentRecorded]] = {}
    for env in envelopes:
        e = PaymentRecorded.model_validate(env.payload)
        # The same payment again under another event id is observed once, as its first event.
        recorded.setdefault(e.payment_id, (env, e))
    indicators = sorted({e.indicator_id for _, e in recorded.values() if e.indicator_id})
    known = set((await conn.execute(select(balances.c.indicator_id).where(
        balances.c.indicator_id.in_(indicators), balances.c.amount.is_not(None)))).scalars()) if indicators else set()
    observed = dict((await conn.execute(_OBSERVE, [dict(
        payment_id=e.payment_id, indicator_id=e.indicator_id, amount=e.amount, paid_at=e.paid_at,
        org_unit=e.org_unit, event_id=env.event_id, traceparent=env.metadata.traceparent, payload=env.payload,
        payee_key=e.payee_id_index or e.payee_account, settlement_method=e.settlement_method.value,
        purpose=e.purpose, payee_type=e.payee_type.value,
        # Judged on arrival when its indicator is known; otherwise when the indicator arrives.
        evaluated=e.indicator_id in known) for env, e in recorded.values()])).all()) if recorded else {}
    new = [(env, e) for env, e in recorded.values() if e.payment_id in observed]
    run_paid: dict[str, Decimal] = defaultdict(Decimal)
    for _, e in new:
        if e.indicator_id:
            run_paid[e.indicator_id] += e.amount
    after = {row.indicator_id: row for row in (await conn.execute(_ADD_PAID, [
        {"indicator_id": i, "paid": paid, "allocated": 0, "refunded": 0} for i, paid in sorted(run_paid.items())
    ])).all()} if run_paid else {}
    paid_before = {i: row.paid - run_paid[i] for i, row in after.items()}
    judged: list[_Judged] = []
    late: list[str] = []
    # The rules of a year sorted once for the run: event rules, and window rules each payment may be of the kind of.
    by_year: dict[int, tuple[list[Rule], list[Rule]]] = {}
    for env, e in new:
        balance = None
        if e.indicator_id:
            row = after[e.indicator_id]
            before = paid_before[e.indicator_id]
            paid_before[e.indicator_id] = before + e.amount
            if row.amount is None:
                continue
            balance = balance_of(row, before)
            if e.indicator_id not in known:
                late.append(e.payment_id)  # the indicator became known while this payment was on its way
        payment = e.model_dump()
        year = balance.fiscal_year if balance and balance.fiscal_year else payment["paid_at"].year
        if year not in by_year:
            rules = rules_in_force(year)
            by_year[year] = ([r for r in rules if r.kind == "event"],
                             [r for r in rules if r.kind == "window" and r.window is not None])
        event_rules, windowed = by_year[year]
        judged.append(_Judged(env, payment, observed[e.payment_id], balance, year, event_rules,
                              [r for r in windowed if in_window(r.window, payment)]))  # type: ignore[arg-type]
    windows = await _windows(conn, judged)
    breaches = []
    for n, j in enumerate(judged):
        org_unit = j.balance.org_unit if j.balance else j.payment.get("org_unit")
        for breach in judge_payment(j.event_rules, j.window_rules, payment_facts(j.payment, j.balance),
                                    windows[n], org_unit):
            breaches.append((j, breach, org_unit))
    await _raise_all(conn, store, breaches)
    if late:
        await mark_evaluated(conn, late)
    await scheduler.on_run(conn, store, envelopes)


async def _windows(conn: AsyncConnection, judged: list[_Judged]) -> list[dict[str, dict[str, Any]]]:
    """Each judged payment's windows by rule id, one statement per window rule for the whole run."""
    by_rule: dict[int, tuple[Rule, list[int]]] = {}
    for n, j in enumerate(judged):
        for rule in j.window_rules:
            by_rule.setdefault(id(rule), (rule, []))[1].append(n)
    windows: list[dict[str, dict[str, Any]]] = [{} for _ in judged]
    for rule, which in by_rule.values():
        found = await windows_of_run(conn, rule.window, rule.params,  # type: ignore[arg-type]
                                     [(judged[n].payment, judged[n].seq) for n in which])
        for n, window in zip(which, found, strict=True):
            windows[n][rule.id] = window
    return windows


async def _raise_all(conn: AsyncConnection, store: EventStore, breaches: list[tuple[_Judged, Breach, str | None]]
                     ) -> None:
    """Raise or update the run's alerts in its order (see raising.raise_or_update), appended in one statement."""
    if not breaches:
        return
    now = clock().now()
    events = [(j, breach, raise_alert(breach=breach, period=breach.period or str(j.year), org_unit=org_unit,
                                      owner_division=j.balance.owner_division if j.balance else None, now=now))
              for j, breach, org_unit in breaches]
    ids = {event.alert_id for _, _, event in events}
    current = {row.alert_id: AlertNow(row.version, row.explanation) for row in (await conn.execute(
        select(alerts.c.alert_id, alerts.c.version, alerts.c.explanation).where(alerts.c.alert_id.in_(ids)))).all()}
    appends = []
    for j, _, event in events:
        step = next_alert_event(event, current.get(event.alert_id))
        if step is None:
            continue
        version, written = step
        appends.append(StreamAppend(f"alert-{event.alert_id}", "alert", version, [written], store.metadata(
            actor=ACTOR, traceparent=j.envelope.metadata.traceparent, causation_id=str(j.envelope.event_id))))
        current[event.alert_id] = AlertNow(version + 1, event.explanation)
        if version == 0:
            note_raised(event)
    await store.append_streams(conn, appends)
