"""The delivery loop (数据交换): each message that is due goes to the province until it answers with a receipt
(回执). An attempt is counted and leased before the request leaves, so a sender that dies mid-way leaves the
message to be sent again when the lease runs out, never lost; the province keeps one of each message_id, so a
message sent twice is harmless. Several replicas may run the loop: a message is taken under its row lock and
leased for longer than a request may take, so two never send it at once."""

import asyncio
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from backbone.clock import clock
from backbone.eventstore import EventStore
from backbone.service import Runtime
from backbone.settings import Settings
from services.sync.exchange.answers import record_answer
from services.sync.exchange.lifecycle import DUE, DeliveryStep, MessageStatus, after, backoff, step_for_answer
from services.sync.exchange.outbound import wire_of
from services.sync.projections import messages

log = structlog.get_logger(__name__)
INTAKE = "/exchange/messages"  # the province's intake


async def _take(engine: AsyncEngine, settings: Settings) -> Any:
    """The next message due, marked sent with its attempt counted and leased; None when nothing is due."""
    now = clock().now()
    async with engine.begin() as conn:
        row = (await conn.execute(
            select(messages).where(messages.c.status.in_(DUE), messages.c.next_attempt_at <= now)
            .order_by(messages.c.next_attempt_at, messages.c.created_at).limit(1)
            .with_for_update(skip_locked=True))).first()
        if row is None:
            return None
        attempts = row.attempts + 1
        status = after(MessageStatus(row.status), DeliveryStep.SEND, row.message_id)
        lease = timedelta(seconds=settings.exchange_timeout_seconds) + backoff(
            attempts, settings.exchange_retry_seconds, settings.exchange_retry_max_seconds)
        await conn.execute(update(messages).where(messages.c.message_id == row.message_id).values(
            status=status, attempts=attempts, next_attempt_at=now + lease, updated_at=now))
    return SimpleNamespace(**{**row._mapping, "attempts": attempts})


async def _post(client: httpx.AsyncClient, settings: Settings, wire: dict[str, Any]
                ) -> tuple[int | None, dict[str, Any] | None, str | None]:
    """The province's answer: its status, its body, and what went wrong in words (None when it answered 2xx)."""
    try:
        answer = await client.post(settings.province_url.rstrip("/") + INTAKE, json=wire,
                                   timeout=settings.exchange_timeout_seconds)
    except httpx.HTTPError as exc:
        return None, None, f"{type(exc).__name__}: {exc}"[:500]
    try:
        body = answer.json()
    except ValueError:
        body = None
    if answer.is_success:
        return answer.status_code, body, None
    reason = body.get("reason") if isinstance(body, dict) else None
    return answer.status_code, body if isinstance(body, dict) else None, f"{answer.status_code}: {reason or answer.text[:300]}"


async def _settle(engine: AsyncEngine, settings: Settings, store: EventStore, row: Any, status_code: int | None,
                  body: dict[str, Any] | None, error: str | None) -> MessageStatus | None:
    """Record the answer on the message, if it is still the attempt this sender leased; what the message carries
    (a monthly report) follows it in the same transaction."""
    step = step_for_answer(status_code, row.attempts, settings.exchange_max_attempts)
    now = clock().now()
    async with engine.begin() as conn:
        current = (await conn.execute(select(messages.c.message_id, messages.c.kind, messages.c.status,
                                             messages.c.attempts)
                                      .where(messages.c.message_id == row.message_id).with_for_update())).first()
        if current is None or current.status != MessageStatus.SENT or current.attempts != row.attempts:
            return None  # someone moved it meanwhile (resent, answered by a receipt message, or taken again)
        retry_at = (now + backoff(row.attempts, settings.exchange_retry_seconds, settings.exchange_retry_max_seconds)
                    if step is DeliveryStep.RETRY else None)
        status = await record_answer(conn, store, current, step, now=now, receipt=body, error=error,
                                     retry_at=retry_at)
    log.info("exchange.attempted", message_id=row.message_id, kind=row.kind, attempt=row.attempts,
             status=status.value, error=error)
    return status


async def deliver_due(engine: AsyncEngine, settings: Settings, store: EventStore, client: httpx.AsyncClient) -> int:
    """Send every message that is due now, one at a time; how many were tried."""
    tried = 0
    while (row := await _take(engine, settings)) is not None:
        await _settle(engine, settings, store, row, *await _post(client, settings, wire_of(row)))
        tried += 1
    return tried


async def run(runtime: Runtime) -> None:
    """The loop of the sync service's exchange."""
    async with httpx.AsyncClient() as client:
        while True:
            await deliver_due(runtime.engine, runtime.settings, runtime.store, client)
            await asyncio.sleep(runtime.settings.exchange_poll_seconds)
