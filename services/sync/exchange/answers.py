"""The one place a message to the province changes status on the province's answer (回执 / 退回): the delivery
loop's answer to an attempt and a receipt message that comes in later both go through `record_answer`, so that
what follows an answer (a monthly report acknowledged or returned) is hooked here once."""

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.eventstore import EventStore
from services.sync.exchange.lifecycle import DeliveryStep, MessageStatus, after
from services.sync.projections import messages
from services.sync.reports import answers as reports


async def record_answer(conn: AsyncConnection, store: EventStore, message: Any, step: DeliveryStep, *,
                        now: datetime, receipt: dict[str, Any] | None = None, error: str | None = None,
                        retry_at: datetime | None = None) -> MessageStatus:
    """Take `step` on a message whose row the caller holds locked (`message`: its message_id, kind and status); a
    receipt or a refusal keeps the province's answer as it gave it, and the report a message carries follows."""
    status = after(MessageStatus(message.status), step, message.message_id)
    values: dict[str, Any] = {"status": status, "last_error": error, "updated_at": now}
    if step in (DeliveryStep.ACKNOWLEDGE, DeliveryStep.REFUSE):
        values["receipt"] = receipt
    if retry_at is not None:
        values["next_attempt_at"] = retry_at
    await conn.execute(update(messages).where(messages.c.message_id == message.message_id).values(**values))
    await reports.on_answer(conn, store, message, status, error)
    return status
