"""What sync learns from the other contexts for the daily rollup and the monthly report: indicators (with the
division that owns them) and their money by the day it counts on, payments and refunds, the steps of alerts (with
their rule and disposal sheet), the measures taken on alerts, and the steps of performance filings. Facts only, no judgement: a rollup or a report adds
them up when it is made."""

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.consumer import Batched, Handler
from backbone.service import Runtime
from backbone.workdays import SHANGHAI
from contracts.alerting import AlertCirculated, AlertRaised, AlertReferred, AlertTransitioned, FundsSuspended
from contracts.envelope import EventEnvelope
from contracts.ledger import FundsRecovered, IndicatorAdjusted, IndicatorCorrected, IndicatorRegistered
from contracts.payments import PaymentRecorded, PaymentRefunded
from contracts.performance import FilingReviewed, GoalsSet, ProgressReported, SelfEvaluated
from services.sync.exchange import reactions
from services.sync.projections import alert_steps, filing_steps, indicators, measures_taken, movements


def _day(at: datetime):
    return at.astimezone(SHANGHAI).date()


def _movement(env: EventEnvelope, indicator_id: str, kind: str, amount: Decimal, on_date: date) -> dict[str, Any]:
    return {"event_id": env.event_id, "indicator_id": indicator_id, "kind": kind, "amount": amount,
            "on_date": on_date}


async def _moves(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(insert(movements).on_conflict_do_nothing(), rows)


async def _move(conn: AsyncConnection, env: EventEnvelope, indicator_id: str, kind: str, amount: Decimal,
                on_date: date) -> None:
    await _moves(conn, [_movement(env, indicator_id, kind, amount, on_date)])


async def on_indicator_registered(conn: AsyncConnection, env: EventEnvelope) -> None:
    """An indicator is money received by its org unit; a child's amount is money its parent allocated."""
    e = IndicatorRegistered.model_validate(env.payload)
    stmt = insert(indicators).values(indicator_id=e.indicator_id, fiscal_year=e.fiscal_year, org_unit=e.org_unit,
                                     fund_name=e.fund_name, parent_id=e.parent_id, owner_division=e.owner_division,
                                     doc_no=e.doc_no, amount=e.amount, issued_on=e.issued_on,
                                     received_on=e.received_on, registered_on=e.registered_on)
    await conn.execute(stmt.on_conflict_do_nothing())
    await _move(conn, env, e.indicator_id, "received", e.amount, e.registered_on)
    if e.parent_id:
        await _move(conn, env, e.parent_id, "allocated", e.amount, e.registered_on)


async def on_indicator_adjusted(conn: AsyncConnection, env: EventEnvelope) -> None:
    """调增 / 调减 / 收回: the indicator received more or less, and its parent allocated as much more or less."""
    e = IndicatorAdjusted.model_validate(env.payload)
    await _move(conn, env, e.indicator_id, "received", e.delta, e.adjusted_on)
    parent = (await conn.execute(update(indicators).where(indicators.c.indicator_id == e.indicator_id)
                                 .values(amount=e.amount_after).returning(indicators.c.parent_id))).scalar()
    if parent:
        await _move(conn, env, parent, "allocated", e.delta, e.adjusted_on)


async def on_indicator_corrected(conn: AsyncConnection, env: EventEnvelope) -> None:
    """A corrected fund name or org unit moves the indicator's money there, in every rollup made from now on; a
    corrected document number is what the issued indicators are matched by."""
    e = IndicatorCorrected.model_validate(env.payload)
    changes = {k: e.changes[k] for k in ("fund_name", "org_unit", "doc_no") if isinstance(e.changes.get(k), str)}
    if changes:
        await conn.execute(update(indicators).where(indicators.c.indicator_id == e.indicator_id).values(**changes))


async def on_payments_recorded(conn: AsyncConnection, envs: list[EventEnvelope]) -> None:
    """Money paid on the day it was paid, a run of payments in one statement. A payment without an indicator
    belongs to no fund: alerting raises it."""
    paid = [(env, PaymentRecorded.model_validate(env.payload)) for env in envs]
    await _moves(conn, [_movement(env, e.indicator_id, "paid", e.amount, _day(e.paid_at))
                        for env, e in paid if e.indicator_id])


async def on_payments_refunded(conn: AsyncConnection, envs: list[EventEnvelope]) -> None:
    refunded = [(env, PaymentRefunded.model_validate(env.payload)) for env in envs]
    await _moves(conn, [_movement(env, e.indicator_id, "refunded", e.amount, _day(e.refunded_at))
                        for env, e in refunded if e.indicator_id])


async def on_alerts_raised(conn: AsyncConnection, envs: list[EventEnvelope]) -> None:
    """Alerts raised, a run in one statement (a batch of payments that overdraw raises as many)."""
    rows = []
    for env in envs:
        e = AlertRaised.model_validate(env.payload)
        rows.append({"event_id": env.event_id, "alert_id": e.alert_id, "org_unit": e.org_unit, "level": e.level,
                     "status": "open", "at": e.raised_at, "owner_division": e.owner_division,
                     "rule_number": e.rule_number})
    await conn.execute(insert(alert_steps).on_conflict_do_nothing(), rows)


async def on_alert_transitioned(conn: AsyncConnection, env: EventEnvelope) -> None:
    """A step of an alert, with what its disposal sheet found and decided (the monthly report's outcomes)."""
    e = AlertTransitioned.model_validate(env.payload)
    sheet = e.sheet
    await conn.execute(insert(alert_steps).values(
        event_id=env.event_id, alert_id=e.alert_id, org_unit=e.org_unit, level=e.to_level, status=e.to_status,
        at=e.at, owner_division=e.owner_division, action=e.action, result=sheet.result if sheet else None,
        method=sheet.method if sheet else None, returned_amount=sheet.returned_amount if sheet else None,
        measures=sheet.measures if sheet else None).on_conflict_do_nothing())


async def on_filed(conn: AsyncConnection, env: EventEnvelope) -> None:
    """Goals set, an execution report or a self-evaluation filed (again): the filing stands at `filed`."""
    model = FILED[env.event_type]
    e = model.model_validate(env.payload)
    filing = {GoalsSet: "goals", ProgressReported: "report", SelfEvaluated: "evaluation"}[model]
    await _filing_step(conn, env, filing_id(e.goal_id, filing, getattr(e, "report_id", None)), filing, e.org_unit,
                       e.fiscal_year, "filed", e.owner_division, getattr(e, "severe_count", None),
                       indicator_id=e.indicator_id, period_end=getattr(e, "period_end", None))


async def on_filing_reviewed(conn: AsyncConnection, env: EventEnvelope) -> None:
    """The budget division accepted or returned a filing."""
    e = FilingReviewed.model_validate(env.payload)
    filing = e.filing if e.filing in ("goals", "evaluation") else "report"
    await _filing_step(conn, env, filing_id(e.goal_id, filing, e.filing), filing, e.org_unit, e.fiscal_year,
                       e.decision, e.owner_division)


def filing_id(goal_id: str, filing: str, report_id: str | None) -> str:
    """One id per filing: a goal's goals and evaluation, and each execution report by its own id."""
    return report_id if filing == "report" and report_id else f"{goal_id}:{filing}"


async def _filing_step(conn: AsyncConnection, env: EventEnvelope, fid: str, filing: str, org_unit: str,
                       fiscal_year: int, status: str, owner_division: str, severe_count: int | None = None, *,
                       indicator_id: str | None = None, period_end: date | None = None) -> None:
    await conn.execute(insert(filing_steps).values(
        event_id=env.event_id, filing_id=fid, filing=filing, org_unit=org_unit, fiscal_year=fiscal_year,
        status=status, at=env.occurred_at, owner_division=owner_division, severe_count=severe_count,
        indicator_id=indicator_id, period_end=period_end).on_conflict_do_nothing())


async def on_measure(conn: AsyncConnection, env: EventEnvelope) -> None:
    """A measure taken on an alert, for the monthly report's count per district: a recovery as the ledger answered
    it (withdrawn, short), a suspension, a referral, a circular (with whom it is against, which the district
    statistics count)."""
    p = env.payload
    withdrawn = shortfall = None
    if env.event_type == FundsRecovered.event_type:
        answer = FundsRecovered.model_validate(p)
        withdrawn, shortfall = answer.withdrawn, answer.shortfall
    await conn.execute(insert(measures_taken).values(
        event_id=env.event_id, kind=MEASURE_KINDS[env.event_type], alert_id=p["alert_id"], org_unit=p["org_unit"],
        owner_division=p["owner_division"], at=env.occurred_at, withdrawn=withdrawn, shortfall=shortfall,
        against=p.get("against"))
        .on_conflict_do_nothing())


MEASURE_KINDS = {FundsRecovered.event_type: "recovery", FundsSuspended.event_type: "suspension",
                 AlertReferred.event_type: "referral", AlertCirculated.event_type: "circular"}
FILED = {m.event_type: m for m in (GoalsSet, ProgressReported, SelfEvaluated)}
HANDLERS: dict[str, Handler] = {
    IndicatorRegistered.event_type: on_indicator_registered,
    IndicatorAdjusted.event_type: on_indicator_adjusted,
    IndicatorCorrected.event_type: on_indicator_corrected,
    AlertTransitioned.event_type: on_alert_transitioned,
    **{t: on_filed for t in FILED},
    FilingReviewed.event_type: on_filing_reviewed,
    **{t: on_measure for t in MEASURE_KINDS},
}


# Facts that arrive in bulk, in runs: the exchange does nothing with these.
BATCHED: dict[str, Batched] = {
    PaymentRecorded.event_type: Batched(on_payments_recorded),
    PaymentRefunded.event_type: Batched(on_payments_refunded),
    AlertRaised.event_type: Batched(on_alerts_raised),
}


def handlers(runtime: Runtime) -> Mapping[str, Handler | Batched]:
    """The rollup's facts, then what the exchange does with the same event (both in the event's transaction)."""
    exchange = reactions.handlers(runtime)
    assert not exchange.keys() & BATCHED.keys(), "an event the exchange reacts to is applied one by one"
    return {**{t: _both(HANDLERS.get(t), exchange.get(t)) for t in HANDLERS.keys() | exchange.keys()}, **BATCHED}


def _both(first: Handler | None, then: Handler | None) -> Handler:
    async def handle(conn: AsyncConnection, env: EventEnvelope) -> None:
        for handler in (first, then):
            if handler is not None:
                await handler(conn, env)
    return handle
