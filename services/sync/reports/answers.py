"""The province's answer to a monthly report (回执 / 退回): the report follows its message, in the transaction that
records the answer on the message (services/sync/exchange/delivery.py `_settle`; inbound receipts come the same
way)."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.eventstore import EventStore
from contracts.province import MessageKind
from services.sync.exchange.lifecycle import MessageStatus
from services.sync.reports import records
from services.sync.reports.lifecycle import ReportStatus, ReportStep
from services.sync.reports.projections import monthly_reports

STEPS = {MessageStatus.ACKNOWLEDGED: ReportStep.ACKNOWLEDGE, MessageStatus.REFUSED: ReportStep.RETURN}


async def on_answer(conn: AsyncConnection, store: EventStore, message: Any, status: MessageStatus,
                    reason: str | None) -> None:
    """A monthly report's message was acknowledged (→ acknowledged) or refused (→ returned, with the province's
    reason); any other answer leaves the report `sent` while the exchange tries again."""
    what = STEPS.get(status)
    if message.kind != MessageKind.MONTHLY_REPORT or what is None:
        return
    row = (await conn.execute(select(monthly_reports).where(monthly_reports.c.message_id == message.message_id)
                              .with_for_update())).first()
    if row is None or row.status != ReportStatus.SENT:
        return  # answered before (a resent message's receipt again): the report has followed already
    await records.step(conn, store, row, what, "province", opinion=reason if what is ReportStep.RETURN else None)
