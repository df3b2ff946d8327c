"""What alerting reacts to: indicators and payments, evaluated against the rules in force; the ledger's answer to a
recovery (收回资金)."""

from collections import defaultdict
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

import structlog

from backbone.consumer import Batched, Handler
from backbone.eventstore import EventStore
from backbone.service import Runtime
from contracts.envelope import EventEnvelope
from contracts.ledger import FundsRecovered, IndicatorAdjusted, IndicatorCorrected, IndicatorRegistered
from contracts.payments import PaymentRecorded, PaymentRefunded
from contracts.performance import ProgressReported
from contracts.sync import IssuedIndicatorReconciled, RuleLevelsReceived
from services.alerting.measures_projections import answer_recovery
from services.alerting.raising import raise_or_update
from services.alerting.projections import (any_pending, balance_of, balances, latest_judged_payment,
                                           mark_evaluated, observed_payments, pending_payments, window_facts)
from services.alerting import payment_runs, rule_levels, scheduler
from services.alerting.rules.book import RULEBOOK, rules_in_force
from services.alerting.rules.engine import (Breach, IndicatorBalance, indicator_facts, judge, judge_payment,
                                           payment_facts, payment_rules)

log = structlog.get_logger(__name__)

# Hot statements, built once (see EventStore for why).
_OBSERVE_PAYMENT = pg_insert(observed_payments).values(
    payment_id=bindparam("b_payment"), indicator_id=bindparam("b_indicator"), amount=bindparam("b_amount"),
    paid_at=bindparam("b_paid_at"), org_unit=bindparam("b_org_unit"), event_id=bindparam("b_event"),
    traceparent=bindparam("b_traceparent"), payload=bindparam("b_payload"), payee_key=bindparam("b_payee"),
    settlement_method=bindparam("b_settlement"), purpose=bindparam("b_purpose"), payee_type=bindparam("b_payee_type"),
    # Judged on arrival when its indicator is known; otherwise when the indicator arrives.
    evaluated=func.coalesce(select(balances.c.amount.is_not(None))
                            .where(balances.c.indicator_id == bindparam("b_indicator")).scalar_subquery(), False),
).on_conflict_do_nothing().returning(observed_payments.c.evaluated, observed_payments.c.seq)
_new_balance = pg_insert(balances).values(indicator_id=bindparam("b_indicator"), paid=bindparam("b_amount"),
                                          allocated=0, refunded=0)
_ADD_PAID = _new_balance.on_conflict_do_update(
    index_elements=[balances.c.indicator_id], set_={"paid": balances.c.paid + _new_balance.excluded.paid},
).returning(*balances.c)
_ADD_REFUNDED = update(balances).where(balances.c.indicator_id == bindparam("b_indicator")).values(
    refunded=balances.c.refunded + bindparam("b_amount"))


class AlertingConsumers:
    """Handlers of the alerting consumer group; alerts go to alerting's own event store."""

    def __init__(self, store: EventStore) -> None:
        self.store = store

    def handlers(self) -> Mapping[str, Handler | Batched]:
        own: dict[str, Handler] = {
            IndicatorRegistered.event_type: self.on_indicator_registered,
            FundsRecovered.event_type: answer_recovery,
            IndicatorAdjusted.event_type: self.on_indicator_adjusted,
            IndicatorCorrected.event_type: self.on_indicator_corrected,
            PaymentRefunded.event_type: self.on_payment_refunded,
            ProgressReported.event_type: self.on_progress_reported,
            IssuedIndicatorReconciled.event_type: self.on_issued_reconciled,
            RuleLevelsReceived.event_type: self.on_rule_levels,
        }
        # Every event a deadline rule starts or meets a clock with also goes by the clocks.
        # (alerting's own events go by AlertClocks)
        clocked = {t for t in RULEBOOK.year().clocked if not t.startswith("alerting.")}
        wired: dict[str, Handler | Batched] = {t: self._with_clocks(own.get(t)) for t in own.keys() | clocked}
        # Payments come in treasury batches: a run of them is judged at once (and goes by the clocks there); so do
        # their refunds, which a bureau returns in batches as well.
        wired[PaymentRecorded.event_type] = Batched(self.on_payments)
        wired[PaymentRefunded.event_type] = Batched(self.on_refunds)
        # Indicators come in imports of thousands.
        wired[IndicatorRegistered.event_type] = Batched(self.on_registrations)
        return wired

    def _with_clocks(self, handler: Handler | None) -> Handler:
        async def handle(conn: AsyncConnection, env: EventEnvelope) -> None:
            if handler is not None:
                await handler(conn, env)
            year = env.payload.get("fiscal_year")
            await scheduler.on_event(conn, self.store, RULEBOOK.year(year).deadline, env)
        return handle

    async def on_registrations(self, conn: AsyncConnection, envs: list[EventEnvelope]) -> None:
        """A run of registrations (an import), each as `on_indicator_registered` then its clocks: the balances in
        two statements, the clocks the run starts in one. A run in which an indicator comes twice or has payments
        waiting for it goes one by one: those payments are judged against its balance as it stood at that point."""
        registered = [IndicatorRegistered.model_validate(env.payload) for env in envs]
        ids = [e.indicator_id for e in registered]
        if len(envs) == 1 or len(set(ids)) < len(ids) or await any_pending(conn, ids):
            handle = self._with_clocks(self.on_indicator_registered)
            for env in envs:
                await handle(conn, env)
            return
        await self._learn(conn, envs, registered)
        await scheduler.on_events(conn, self.store, [(RULEBOOK.year(e.fiscal_year).deadline, env)
                                                     for env, e in zip(envs, registered, strict=True)])

    async def _learn(self, conn: AsyncConnection, envs: list[EventEnvelope],
                     registered: list[IndicatorRegistered]) -> None:
        """Learn the indicators' amounts and scopes (their parents' shares given to them added up, in id order) and
        judge each registration, in the run's order."""
        stmt = pg_insert(balances)
        await conn.execute(stmt.on_conflict_do_update(index_elements=[balances.c.indicator_id], set_={
            k: stmt.excluded[k] for k in ("amount", "fiscal_year", "registered", "org_unit", "owner_division",
                                          "parent_id")}),
            [{"indicator_id": e.indicator_id, "amount": e.amount, "allocated": 0, "paid": 0, "refunded": 0,
              "fiscal_year": e.fiscal_year, "org_unit": e.org_unit, "owner_division": e.owner_division,
              "parent_id": e.parent_id, "registered": env.payload} for env, e in zip(envs, registered, strict=True)])
        given: dict[str, Decimal] = {}
        for e in registered:
            if e.parent_id:
                given[e.parent_id] = given.get(e.parent_id, Decimal("0")) + e.amount
        if given:
            parent = pg_insert(balances)
            await conn.execute(parent.on_conflict_do_update(
                index_elements=[balances.c.indicator_id],
                set_={"allocated": balances.c.allocated + parent.excluded.allocated}),
                [{"indicator_id": k, "allocated": v, "paid": 0, "refunded": 0} for k, v in sorted(given.items())])
        for env, e in zip(envs, registered, strict=True):
            await self._raise_all(conn, env.event_id, None, judge(
                rules_in_force(e.fiscal_year), IndicatorRegistered.event_type, indicator_facts(e.model_dump()),
                e.org_unit), period=str(e.fiscal_year), org_unit=e.org_unit, owner_division=e.owner_division)

    async def on_indicator_registered(self, conn: AsyncConnection, env: EventEnvelope) -> None:
        """Learn the indicator's amount and scope; judge payments that arrived before it."""
        e = IndicatorRegistered.model_validate(env.payload)
        await self._learn(conn, [env], [e])
        pending = await pending_payments(conn, e.indicator_id)
        if not pending:
            return
        balance = (await conn.execute(select(balances).where(balances.c.indicator_id == e.indicator_id))).one()
        paid_before = balance.paid - sum((p.amount for p in pending), Decimal("0"))
        for p in pending:
            # The payment, not the indicator's arrival, is what the alert is about: keep its trace.
            await self._judge_payment(conn, p.event_id, p.traceparent, _payment(p.payload),
                                      balance_of(balance, paid_before), seq=p.seq)
            paid_before += p.amount
        await mark_evaluated(conn, [p.payment_id for p in pending])

    async def on_progress_reported(self, conn: AsyncConnection, env: EventEnvelope) -> None:
        """An execution report with its deviations measured: the 绩效管理 event rules judge it."""
        report = ProgressReported.model_validate(env.payload)
        facts = {"report": report.model_dump(), "indicator": {"indicator_id": report.indicator_id}}
        await self._raise_all(conn, env.event_id, env.metadata.traceparent, judge(
            rules_in_force(report.fiscal_year), ProgressReported.event_type, facts, report.org_unit),
            period=str(report.fiscal_year), org_unit=report.org_unit, owner_division=report.owner_division)

    async def on_issued_reconciled(self, conn: AsyncConnection, env: EventEnvelope) -> None:
        """An issued indicator matched with the ledger (第二十六条(一)): another amount registered is an alert."""
        e = IssuedIndicatorReconciled.model_validate(env.payload)
        await self._raise_all(conn, env.event_id, env.metadata.traceparent, judge(
            rules_in_force(e.fiscal_year), IssuedIndicatorReconciled.event_type, {"issued": e.model_dump()},
            e.org_unit), period=str(e.fiscal_year), org_unit=e.org_unit, owner_division=e.owner_division)

    async def on_rule_levels(self, conn: AsyncConnection, env: EventEnvelope) -> None:
        """Levels set by the Ministry or the province (第二十条), each a step in its rule's history."""
        await rule_levels.apply(conn, self.store, RuleLevelsReceived.model_validate(env.payload))

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
            await self._judge_payment(conn, last.event_id, last.traceparent, _payment(last.payload),
                                      balance_of(balance, balance.paid - last.amount), seq=last.seq,
                                      indicator_rules_only=True)

    async def on_indicator_corrected(self, conn: AsyncConnection, env: EventEnvelope) -> None:
        """A corrected owner division routes the indicator's future alerts to the right division."""
        e = IndicatorCorrected.model_validate(env.payload)
        if "owner_division" in e.changes:
            await conn.execute(update(balances).where(balances.c.indicator_id == e.indicator_id)
                               .values(owner_division=e.changes["owner_division"]))

    async def on_payment_refunded(self, conn: AsyncConnection, env: EventEnvelope) -> None:
        """Money back on the indicator: later payments are judged against the restored balance. The reference
        `on_refunds` keeps to, refund by refund (then by the clocks, as every event)."""
        e = PaymentRefunded.model_validate(env.payload)
        if e.indicator_id:
            await conn.execute(update(balances).where(balances.c.indicator_id == e.indicator_id)
                               .values(refunded=balances.c.refunded + e.amount))

    async def on_refunds(self, conn: AsyncConnection, envelopes: list[EventEnvelope]) -> None:
        """A run of refunds: each indicator's money back added in one statement for the run, then the run by the
        clocks. Nothing is judged on a refund, so only the sums per indicator matter, not their order within."""
        back: dict[str, Decimal] = defaultdict(Decimal)
        for env in envelopes:
            e = PaymentRefunded.model_validate(env.payload)
            if e.indicator_id:
                back[e.indicator_id] += e.amount
        if back:
            # In the indicators' order, as payment runs take their rows' locks.
            await conn.execute(_ADD_REFUNDED, [{"b_indicator": i, "b_amount": amount}
                                               for i, amount in sorted(back.items())])
        await scheduler.on_run(conn, self.store, envelopes)

    async def on_payments(self, conn: AsyncConnection, envelopes: list[EventEnvelope]) -> None:
        """A run of payments, judged at once (payment_runs) as `on_payment_recorded` judges them one by one."""
        await payment_runs.on_payments(conn, self.store, envelopes)

    async def on_payment_recorded(self, conn: AsyncConnection, env: EventEnvelope) -> None:
        """Count the payment against its indicator and judge it, or keep it until the indicator is known:
        an alert is routed to the division that owns the fund, which only the indicator tells. The reference
        `payment_runs` keeps to: a run judged at once gives what this gives event by event."""
        e = PaymentRecorded.model_validate(env.payload)
        seen = await conn.execute(_OBSERVE_PAYMENT, {
            "b_payment": e.payment_id, "b_indicator": e.indicator_id, "b_amount": e.amount, "b_paid_at": e.paid_at,
            "b_org_unit": e.org_unit, "b_event": env.event_id, "b_traceparent": env.metadata.traceparent,
            "b_payload": env.payload, "b_payee": e.payee_id_index or e.payee_account,
            "b_settlement": e.settlement_method.value, "b_purpose": e.purpose, "b_payee_type": e.payee_type.value})
        observed = seen.first()
        if observed is None:
            return
        payment = e.model_dump()
        if not e.indicator_id:
            await self._judge_payment(conn, env.event_id, None, payment, None, seq=observed.seq)
            return
        # The row lock of this upsert orders concurrent payments on one indicator.
        row = (await conn.execute(_ADD_PAID, {"b_indicator": e.indicator_id, "b_amount": e.amount})).one()
        if row.amount is None:
            return
        await self._judge_payment(conn, env.event_id, None, payment, balance_of(row, row.paid - e.amount),
                                  seq=observed.seq)
        if not observed.evaluated:
            # The indicator became known while this payment was on its way.
            await mark_evaluated(conn, [e.payment_id])

    async def _judge_payment(self, conn: AsyncConnection, cause_id: UUID, traceparent: str | None,
                             payment: dict[str, Any], balance: IndicatorBalance | None, *, seq: int,
                             indicator_rules_only: bool = False) -> None:
        """Judge a payment by the rules in force (after a change of its indicator, by those about the indicator)."""
        year = balance.fiscal_year if balance and balance.fiscal_year else payment["paid_at"].year
        event_rules, window_rules = payment_rules(payment, rules_in_force(year),
                                                  indicator_rules_only=indicator_rules_only)
        org_unit = balance.org_unit if balance else payment.get("org_unit")
        windows = {rule.id: await window_facts(conn, rule.window, rule.params, payment, seq)  # type: ignore[arg-type]
                   for rule in window_rules}
        breaches = judge_payment(event_rules, window_rules, payment_facts(payment, balance), windows, org_unit)
        await self._raise_all(conn, cause_id, traceparent, breaches, period=str(year), org_unit=org_unit,
                              owner_division=balance.owner_division if balance else None)

    async def _raise_all(self, conn: AsyncConnection, cause_id: UUID, traceparent: str | None,
                         breaches: list[Breach], *, period: str, org_unit: str | None,
                         owner_division: str | None) -> None:
        for breach in breaches:
            await raise_or_update(conn, self.store, breach, period=period, org_unit=org_unit,
                                  owner_division=owner_division, cause=str(cause_id), traceparent=traceparent)


def _payment(payload: dict[str, Any]) -> dict[str, Any]:
    return PaymentRecorded.model_validate(payload).model_dump()


def handlers(runtime: Runtime) -> Mapping[str, Handler | Batched]:
    """What the alerting consumer group handles, by event type."""
    return AlertingConsumers(runtime.store).handlers()
