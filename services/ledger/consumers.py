"""What the ledger learns from other contexts: payments drawn on its indicators."""

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.consumer import Handler
from backbone.service import Runtime
from contracts.envelope import EventEnvelope
from contracts.payments import PaymentRecorded, PaymentRefunded
from services.ledger import projections


async def on_payment_recorded(conn: AsyncConnection, envelope: EventEnvelope) -> None:
    """A payment counts against the indicator it draws on."""
    payment = PaymentRecorded.model_validate(envelope.payload)
    if payment.indicator_id:
        await projections.add_payment(conn, payment_id=payment.payment_id, indicator_id=payment.indicator_id,
                                      amount=payment.amount, paid_at=payment.paid_at,
                                      recorded_at=envelope.occurred_at)


async def on_payment_refunded(conn: AsyncConnection, envelope: EventEnvelope) -> None:
    """A refund gives money back to the indicator the payment drew on."""
    refund = PaymentRefunded.model_validate(envelope.payload)
    if refund.indicator_id:
        await projections.add_refund(conn, refund_id=refund.refund_id, indicator_id=refund.indicator_id,
                                     amount=refund.amount, recorded_at=envelope.occurred_at)


def handlers(_: Runtime) -> Mapping[str, Handler]:
    """What the ledger consumes, by event type."""
    return {PaymentRecorded.event_type: on_payment_recorded, PaymentRefunded.event_type: on_payment_refunded}
