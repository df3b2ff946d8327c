"""What the ledger learns from other contexts: payments drawn on its indicators, and their refunds."""

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.consumer import Batched, Handler
from backbone.service import Runtime
from contracts.envelope import EventEnvelope
from contracts.payments import PaymentRecorded, PaymentRefunded
from services.ledger import projections


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


def handlers(_: Runtime) -> Mapping[str, Handler | Batched]:
    """What the ledger consumes, by event type."""
    spending = Batched(on_spending)
    return {PaymentRecorded.event_type: spending, PaymentRefunded.event_type: spending}
