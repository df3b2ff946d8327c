"""What the ledger learns from other contexts: payments drawn on its indicators, their refunds, and the recoveries
(收回资金) a red light's measure orders, which it writes as withdrawals."""

from collections.abc import Mapping

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.clock import clock
from backbone.consumer import Batched, Handler
from backbone.eventstore import EventStore
from backbone.service import Runtime
from contracts.alerting import FundsRecoveryOrdered
from contracts.ledger import FundsRecovered
from contracts.envelope import DomainEvent, EventEnvelope
from contracts.payments import PaymentRecorded, PaymentRefunded
from services.ledger import projections
from services.ledger.domain import adjust, recoverable

log = structlog.get_logger(__name__)


async def on_spending(conn: AsyncConnection, envelopes: list[EventEnvelope]) -> None:
    """Payments count against the indicators they draw on, refunds give money back: a run of them in a few
    multi-row statements (a treasury batch of 500 is one run)."""
    payments, refunds = [], []
    for envelope in envelopes:
        if envelope.event_type == PaymentRecorded.event_type:
            p = PaymentRecorded.model_validate(envelope.payload)
            if p.indicator_id:
                payments.append(projections.PaymentFact(p.payment_id, p.indicator_id, p.amount, p.paid_at,
                                                        envelope.occurred_at))
        else:
            r = PaymentRefunded.model_validate(envelope.payload)
            if r.indicator_id:
                refunds.append(projections.RefundFact(r.refund_id, r.indicator_id, r.amount, envelope.occurred_at))
    await projections.add_spending(conn, payments, refunds)


def on_recovery(store: EventStore) -> Handler:
    async def handle(conn: AsyncConnection, envelope: EventEnvelope) -> None:
        """The withdrawal (收回) a recovery orders, by the person who ordered it, and the answer alerting shows on the
        alert (FundsRecovered); the consumer's tracking makes it once. Alerting checked the amount against the
        balance it knew: if payments since left less, what is available is withdrawn and the rest is a shortfall."""
        order = FundsRecoveryOrdered.model_validate(envelope.payload)
        found = await projections.indicator_with_standing(conn, order.indicator_id, lock=True)
        if found is None:
            log.warning("ledger.recovery_unknown_indicator", indicator_id=order.indicator_id, alert_id=order.alert_id)
            return
        row, standing = found
        withdrawn = recoverable(order.amount, standing.available)
        events: list[DomainEvent] = []
        if withdrawn > 0:
            events.append(adjust(indicator=projections.as_registered(row), standing=standing, delta=-withdrawn,
                                 withdrawal=True, today=clock().today(),
                                 reason=f"收回资金：预警 {order.rule_number} 处理单 {order.sheet_number}"))
        else:
            log.warning("ledger.recovery_short", indicator_id=order.indicator_id, alert_id=order.alert_id,
                        amount=str(order.amount), available=str(standing.available))
        events.append(FundsRecovered(alert_id=order.alert_id, indicator_id=order.indicator_id,
                                     sheet_number=order.sheet_number, ordered=order.amount, withdrawn=withdrawn,
                                     shortfall=order.amount - withdrawn, org_unit=order.org_unit,
                                     owner_division=order.owner_division, at=clock().now()))
        await store.append(conn, stream_id=f"indicator-{order.indicator_id}", stream_type="indicator",
                           expected_version=row["version"], events=events,
                           meta=store.metadata(actor=envelope.metadata.actor, org_unit=envelope.metadata.org_unit,
                                               causation_id=str(envelope.event_id)))
    return handle


def handlers(runtime: Runtime) -> Mapping[str, Handler | Batched]:
    """What the ledger consumes, by event type."""
    spending = Batched(on_spending)
    return {PaymentRecorded.event_type: spending, PaymentRefunded.event_type: spending,
            FundsRecoveryOrdered.event_type: on_recovery(runtime.store)}
