"""What alerting reacts to: indicators and payments, evaluated against the rules in force."""

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import Row, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

import structlog

from backbone.consumer import Handler
from backbone.eventstore import EventStore
from backbone.service import Runtime
from contracts.alerting import AlertSubject
from contracts.envelope import EventEnvelope
from contracts.ledger import IndicatorAdjusted, IndicatorCorrected, IndicatorRegistered
from contracts.payments import PaymentRecorded, PaymentRefunded
from services.alerting.domain import raise_alert
from services.alerting.projections import (alerts, balances, latest_judged_payment, mark_evaluated, observed_payments,
                                           pending_payments)
from services.alerting.rules import starter_rules
from services.alerting.rules.spending import PaymentAgainstBalance, payment_exceeds_available

log = structlog.get_logger(__name__)
OVERDRAW_RULE = "spending.payment_exceeds_available"

# Hot statements, built once (see EventStore for why).
_OBSERVE_PAYMENT = pg_insert(observed_payments).values(
    payment_id=bindparam("b_payment"), indicator_id=bindparam("b_indicator"), amount=bindparam("b_amount"),
    paid_at=bindparam("b_paid_at"), org_unit=bindparam("b_org_unit"), event_id=bindparam("b_event"),
    traceparent=bindparam("b_traceparent"),
    # Judged on arrival when its indicator is known; otherwise when the indicator arrives.
    evaluated=func.coalesce(select(balances.c.amount.is_not(None))
                            .where(balances.c.indicator_id == bindparam("b_indicator")).scalar_subquery(), False),
).on_conflict_do_nothing().returning(observed_payments.c.evaluated)
_new_balance = pg_insert(balances).values(indicator_id=bindparam("b_indicator"), paid=bindparam("b_amount"),
                                          allocated=0, refunded=0)
_ADD_PAID = _new_balance.on_conflict_do_update(
    index_elements=[balances.c.indicator_id], set_={"paid": balances.c.paid + _new_balance.excluded.paid},
).returning(*balances.c)
_ALERT_VERSION = select(alerts.c.version).where(alerts.c.alert_id == bindparam("b_alert"))


class AlertingConsumers:
    """Handlers of the alerting consumer group; alerts go to alerting's own event store."""

    def __init__(self, store: EventStore) -> None:
        self.store = store

    def handlers(self) -> Mapping[str, Handler]:
        return {
            IndicatorRegistered.event_type: self.on_indicator_registered,
            IndicatorAdjusted.event_type: self.on_indicator_adjusted,
            IndicatorCorrected.event_type: self.on_indicator_corrected,
            PaymentRecorded.event_type: self.on_payment_recorded,
            PaymentRefunded.event_type: self.on_payment_refunded,
        }

    async def on_indicator_registered(self, conn: AsyncConnection, env: EventEnvelope) -> None:
        """Learn the indicator's amount and scope; judge payments that arrived before it."""
        e = IndicatorRegistered.model_validate(env.payload)
        stmt = pg_insert(balances).values(
            indicator_id=e.indicator_id, amount=e.amount, allocated=0, paid=0, refunded=0,
            fiscal_year=e.fiscal_year, org_unit=e.org_unit, owner_division=e.owner_division, parent_id=e.parent_id)
        await conn.execute(stmt.on_conflict_do_update(index_elements=[balances.c.indicator_id], set_={
            "amount": stmt.excluded.amount, "fiscal_year": stmt.excluded.fiscal_year,
            "org_unit": stmt.excluded.org_unit, "owner_division": stmt.excluded.owner_division,
            "parent_id": stmt.excluded.parent_id}))
        if e.parent_id:
            parent = pg_insert(balances).values(indicator_id=e.parent_id, allocated=e.amount, paid=0, refunded=0)
            await conn.execute(parent.on_conflict_do_update(
                index_elements=[balances.c.indicator_id], set_={"allocated": balances.c.allocated + e.amount}))
        pending = await pending_payments(conn, e.indicator_id)
        if not pending:
            return
        balance = (await conn.execute(select(balances).where(balances.c.indicator_id == e.indicator_id))).one()
        paid_before = balance.paid - sum((p.amount for p in pending), Decimal("0"))
        for p in pending:
            # The payment, not the indicator's arrival, is what the alert is about: keep its trace.
            await self._judge_payment(conn, p.event_id, p.traceparent, balance, payment_id=p.payment_id,
                                      amount=p.amount, paid_before=paid_before)
            paid_before += p.amount
        await mark_evaluated(conn, [p.payment_id for p in pending])

    async def on_indicator_adjusted(self, conn: AsyncConnection, env: EventEnvelope) -> None:
        """A new amount (调增 / 调减 / 收回); what a child gives up goes back to its parent."""
        e = IndicatorAdjusted.model_validate(env.payload)
        balance = (await conn.execute(update(balances).where(balances.c.indicator_id == e.indicator_id)
                                      .values(amount=e.amount_after).returning(*balances.c))).first()
        if balance is None:
            return
        if balance.parent_id:
            await conn.execute(update(balances).where(balances.c.indicator_id == balance.parent_id)
                               .values(allocated=balances.c.allocated + e.delta))
        available = balance.amount - balance.allocated - balance.paid + balance.refunded
        last = await latest_judged_payment(conn, e.indicator_id)
        if e.delta < 0 and available < 0 and last is not None:
            # Payments seen before this decrease, made after it: with the amount now known, the
            # latest of them is the one that overdraws.
            await self._judge_payment(conn, last.event_id, last.traceparent, balance, payment_id=last.payment_id,
                                      amount=last.amount, paid_before=balance.paid - last.amount)

    async def on_indicator_corrected(self, conn: AsyncConnection, env: EventEnvelope) -> None:
        """A corrected owner division routes the indicator's future alerts to the right division."""
        e = IndicatorCorrected.model_validate(env.payload)
        if "owner_division" in e.changes:
            await conn.execute(update(balances).where(balances.c.indicator_id == e.indicator_id)
                               .values(owner_division=e.changes["owner_division"]))

    async def on_payment_refunded(self, conn: AsyncConnection, env: EventEnvelope) -> None:
        """Money back on the indicator: later payments are judged against the restored balance."""
        e = PaymentRefunded.model_validate(env.payload)
        if e.indicator_id:
            await conn.execute(update(balances).where(balances.c.indicator_id == e.indicator_id)
                               .values(refunded=balances.c.refunded + e.amount))

    async def on_payment_recorded(self, conn: AsyncConnection, env: EventEnvelope) -> None:
        """Count the payment against its indicator and judge it, or keep it until the indicator is known."""
        e = PaymentRecorded.model_validate(env.payload)
        seen = await conn.execute(_OBSERVE_PAYMENT, {
            "b_payment": e.payment_id, "b_indicator": e.indicator_id, "b_amount": e.amount, "b_paid_at": e.paid_at,
            "b_org_unit": e.org_unit, "b_event": env.event_id, "b_traceparent": env.metadata.traceparent})
        observed = seen.first()
        if observed is None or not e.indicator_id:
            return
        # The row lock of this upsert orders concurrent payments on one indicator.
        balance = (await conn.execute(_ADD_PAID, {"b_indicator": e.indicator_id, "b_amount": e.amount})).one()
        if balance.amount is None:
            return
        await self._judge_payment(conn, env.event_id, None, balance, payment_id=e.payment_id, amount=e.amount,
                                  paid_before=balance.paid - e.amount)
        if not observed.evaluated:
            # The indicator became known while this payment was on its way.
            await mark_evaluated(conn, [e.payment_id])

    async def _judge_payment(self, conn: AsyncConnection, cause_id: UUID, traceparent: str | None,
                             balance: Row[Any], *, payment_id: str, amount: Decimal, paid_before: Decimal) -> None:
        rule = starter_rules()[OVERDRAW_RULE]
        if not rule.applies_to(balance.org_unit):
            return
        fact = PaymentAgainstBalance(
            payment_id=payment_id, indicator_id=balance.indicator_id, amount=amount,
            indicator_amount=balance.amount, allocated=balance.allocated,
            paid_before=paid_before, refunded=balance.refunded)
        breach = payment_exceeds_available(rule, fact)
        if breach is None:
            return
        event = raise_alert(
            breach=breach, subject=AlertSubject(kind="payment", id=payment_id, indicator_id=fact.indicator_id),
            period=str(balance.fiscal_year), org_unit=balance.org_unit,
            owner_division=balance.owner_division, now=datetime.now(UTC))
        if await conn.scalar(_ALERT_VERSION, {"b_alert": event.alert_id}) is not None:
            log.info("alert.already_raised", alert_id=event.alert_id, rule_id=rule.id)
            return
        meta = self.store.metadata(actor="system:alerting", traceparent=traceparent, causation_id=str(cause_id))
        # Two consumers racing to raise the same alert: the loser's handler is retried and
        # then finds the alert above.
        await self.store.append(conn, stream_id=f"alert-{event.alert_id}", stream_type="alert",
                                expected_version=0, events=[event], meta=meta)
        log.info("alert.raised", alert_id=event.alert_id, rule_id=rule.id, level=rule.level.value)


def handlers(runtime: Runtime) -> Mapping[str, Handler]:
    """What the alerting consumer group handles, by event type."""
    return AlertingConsumers(runtime.store).handlers()
