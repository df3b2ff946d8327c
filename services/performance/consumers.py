"""What performance learns from the ledger and payments: each indicator's scope, amount and spending."""

from collections.abc import Mapping
from decimal import Decimal

from sqlalchemy import bindparam, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.consumer import Batched, Handler
from backbone.service import Runtime
from contracts.envelope import EventEnvelope
from contracts.ledger import IndicatorAdjusted, IndicatorCorrected, IndicatorRegistered
from contracts.payments import PaymentRecorded, PaymentRefunded
from services.performance.projections import goals, indicators


async def on_registered(conn: AsyncConnection, envs: list[EventEnvelope]) -> None:
    """A run of registrations (an import) in one statement. A payment may have arrived first and made the row
    already."""
    rows = []
    for env in envs:
        e = IndicatorRegistered.model_validate(env.payload)
        rows.append({"indicator_id": e.indicator_id, "fiscal_year": e.fiscal_year, "org_unit": e.org_unit,
                     "owner_division": e.owner_division, "doc_no": e.doc_no, "fund_name": e.fund_name,
                     "amount": e.amount, "paid": 0, "refunded": 0})
    stmt = insert(indicators)
    await conn.execute(stmt.on_conflict_do_update(index_elements=[indicators.c.indicator_id], set_={
        k: stmt.excluded[k] for k in ("fiscal_year", "org_unit", "owner_division", "doc_no", "fund_name", "amount")}),
        rows)


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


def _by_indicator(envs: list[EventEnvelope], model: type[PaymentRecorded] | type[PaymentRefunded]
                  ) -> list[tuple[str, Decimal]]:
    """The amounts of a run of payments (or refunds) summed per indicator, in id order: two runs on the same
    indicators then lock their rows in the same order."""
    sums: dict[str, Decimal] = {}
    for env in envs:
        e = model.model_validate(env.payload)
        if e.indicator_id:
            sums[e.indicator_id] = sums.get(e.indicator_id, Decimal(0)) + e.amount
    return sorted(sums.items())


async def on_paid(conn: AsyncConnection, envs: list[EventEnvelope]) -> None:
    """What a run of payments paid from each indicator, added in one statement (a payment may come before its
    indicator: it makes the row)."""
    if paid := _by_indicator(envs, PaymentRecorded):
        stmt = insert(indicators)
        await conn.execute(stmt.on_conflict_do_update(index_elements=[indicators.c.indicator_id],
                                                      set_={"paid": indicators.c.paid + stmt.excluded.paid}),
                           [{"indicator_id": k, "paid": v, "refunded": 0} for k, v in paid])


async def on_refunded(conn: AsyncConnection, envs: list[EventEnvelope]) -> None:
    if refunded := _by_indicator(envs, PaymentRefunded):
        await conn.execute(update(indicators).where(indicators.c.indicator_id == bindparam("iid"))
                           .values(refunded=indicators.c.refunded + bindparam("returned")),
                           [{"iid": k, "returned": v} for k, v in refunded])


def handlers(_: Runtime) -> Mapping[str, Handler | Batched]:
    return {IndicatorRegistered.event_type: Batched(on_registered), IndicatorAdjusted.event_type: on_adjusted,
            IndicatorCorrected.event_type: on_corrected, PaymentRecorded.event_type: Batched(on_paid),
            PaymentRefunded.event_type: Batched(on_refunded)}
