"""What performance learns from the ledger and payments: each indicator's scope, amount and spending."""

from collections.abc import Mapping

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.consumer import Handler
from backbone.service import Runtime
from contracts.envelope import EventEnvelope
from contracts.ledger import IndicatorAdjusted, IndicatorCorrected, IndicatorRegistered
from contracts.payments import PaymentRecorded, PaymentRefunded
from services.performance.projections import goals, indicators


async def on_registered(conn: AsyncConnection, env: EventEnvelope) -> None:
    e = IndicatorRegistered.model_validate(env.payload)
    stmt = insert(indicators).values(indicator_id=e.indicator_id, fiscal_year=e.fiscal_year, org_unit=e.org_unit,
                                     owner_division=e.owner_division, doc_no=e.doc_no, fund_name=e.fund_name,
                                     amount=e.amount, paid=0, refunded=0)
    # A payment may have arrived first and made the row already.
    await conn.execute(stmt.on_conflict_do_update(index_elements=[indicators.c.indicator_id], set_={
        k: stmt.excluded[k] for k in ("fiscal_year", "org_unit", "owner_division", "doc_no", "fund_name", "amount")}))


async def on_adjusted(conn: AsyncConnection, env: EventEnvelope) -> None:
    e = IndicatorAdjusted.model_validate(env.payload)
    await conn.execute(update(indicators).where(indicators.c.indicator_id == e.indicator_id)
                       .values(amount=e.amount_after))


async def on_corrected(conn: AsyncConnection, env: EventEnvelope) -> None:
    e = IndicatorCorrected.model_validate(env.payload)
    changes = {k: e.changes[k] for k in ("owner_division", "org_unit", "doc_no", "fund_name") if k in e.changes}
    if changes:
        await conn.execute(update(indicators).where(indicators.c.indicator_id == e.indicator_id).values(**changes))
    # A goal is seen by whoever sees its indicator: a corrected owner or org unit moves its goal too.
    scope = {k: v for k, v in changes.items() if k in ("owner_division", "org_unit")}
    if scope:
        await conn.execute(update(goals).where(goals.c.indicator_id == e.indicator_id).values(**scope))


async def on_paid(conn: AsyncConnection, env: EventEnvelope) -> None:
    e = PaymentRecorded.model_validate(env.payload)
    if e.indicator_id:
        stmt = insert(indicators).values(indicator_id=e.indicator_id, paid=e.amount, refunded=0)
        await conn.execute(stmt.on_conflict_do_update(index_elements=[indicators.c.indicator_id],
                                                      set_={"paid": indicators.c.paid + e.amount}))


async def on_refunded(conn: AsyncConnection, env: EventEnvelope) -> None:
    e = PaymentRefunded.model_validate(env.payload)
    if e.indicator_id:
        await conn.execute(update(indicators).where(indicators.c.indicator_id == e.indicator_id)
                           .values(refunded=indicators.c.refunded + e.amount))


def handlers(_: Runtime) -> Mapping[str, Handler]:
    return {IndicatorRegistered.event_type: on_registered, IndicatorAdjusted.event_type: on_adjusted,
            IndicatorCorrected.event_type: on_corrected, PaymentRecorded.event_type: on_paid,
            PaymentRefunded.event_type: on_refunded}
