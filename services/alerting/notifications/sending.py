"""The sender: the digests of past days planned, then each message due sent, its attempt recorded, and a failed
one tried again with back-off. A message is leased before it is sent and settled after, outside the lease's
transaction, so a slow mail server holds no lock; a process that dies in between lets the lease run out and the
message is sent again (at least once: the key rides along for the receiver to tell)."""

import asyncio
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from backbone.clock import clock
from backbone.service import Runtime
from backbone.settings import Settings
from services.alerting.notifications.channels import channels_on, send_email, send_sms
from services.alerting.notifications.consumers import record, register_of
from services.alerting.notifications.domain import Bell, Channel, backoff, digest_due, plan_digest, settle
from services.alerting.notifications.projections import deliveries, digest_bells

log = structlog.get_logger(__name__)


async def plan_digests(engine: AsyncEngine, settings: Settings) -> int:
    """Plan the digest of every office's bells of each day that is due; how many (day, office) were digested."""
    now = clock().now()
    b = digest_bells.c
    async with engine.begin() as conn:
        waiting = (await conn.execute(select(b.day, b.office).where(b.digested_at.is_(None)).distinct())).all()
        due = [(day, office) for day, office in waiting if digest_due(now, day, settings.notify_digest_hour)]
        for day, office in due:
            rows = (await conn.execute(select(digest_bells).where(b.day == day, b.office == office,
                                                                  b.digested_at.is_(None))
                                       .order_by(b.alert_id).with_for_update(skip_locked=True))).all()
            if not rows:
                continue
            register = await register_of(conn, [office])
            bells = [Bell(r.alert_id, r.rule_number, r.rule_name, r.summary) for r in rows]
            await record(conn, plan_digest(day, register.get(office), bells, channels_on(settings)))
            await conn.execute(update(digest_bells).where(b.day == day, b.office == office,
                                                          b.alert_id.in_([r.alert_id for r in rows]))
                               .values(digested_at=now))
    return len(due)


async def _take(engine: AsyncEngine, settings: Settings) -> Any:
    """The next message due, its attempt counted and leased; None when nothing is due."""
    now = clock().now()
    d = deliveries.c
    async with engine.begin() as conn:
        row = (await conn.execute(select(deliveries).where(d.status == "pending", d.next_attempt_at <= now)
                                  .order_by(d.next_attempt_at, d.id).limit(1).with_for_update(skip_locked=True))
               ).first()
        if row is None:
            return None
        attempts = row.attempts + 1
        lease = timedelta(seconds=settings.notify_timeout_seconds * 2) + backoff(
            attempts, settings.notify_retry_seconds, settings.notify_retry_max_seconds)
        await conn.execute(update(deliveries).where(d.id == row.id).values(attempts=attempts,
                                                                          next_attempt_at=now + lease))
    return SimpleNamespace(**{**row._mapping, "attempts": attempts})


async def _send(client: httpx.AsyncClient, settings: Settings, row: Any) -> str | None:
    if row.channel == Channel.EMAIL:
        return await send_email(settings, row.recipient, row.title, row.body, row.delivery_key)
    return await send_sms(client, settings, row.recipient, f"{row.title}：{row.body}", row.delivery_key)


async def _settle(engine: AsyncEngine, settings: Settings, row: Any, error: str | None) -> None:
    now = clock().now()
    status = settle(row.attempts, error, settings.notify_max_attempts)
    d = deliveries.c
    # The last error stays on a message sent at a later attempt: what went wrong on the way is part of its record.
    values: dict[str, Any] = {"status": status} | ({"last_error": error} if error else {})
    if status == "sent":
        values["sent_at"] = now
    elif status == "pending":
        values["next_attempt_at"] = now + backoff(row.attempts, settings.notify_retry_seconds,
                                                  settings.notify_retry_max_seconds)
    async with engine.begin() as conn:
        # Only the attempt this sender leased: a lease that ran out was taken again by another.
        await conn.execute(update(deliveries).where(d.id == row.id, d.attempts == row.attempts,
                                                    d.status == "pending").values(**values))
    log.info("notify.attempted", delivery=row.id, kind=row.kind, channel=row.channel, attempt=row.attempts,
             status=status, error=error)


async def deliver_due(engine: AsyncEngine, settings: Settings, client: httpx.AsyncClient) -> int:
    """Send every message due now, one at a time; how many were tried."""
    tried = 0
    while (row := await _take(engine, settings)) is not None:
        await _settle(engine, settings, row, await _send(client, settings, row))
        tried += 1
    return tried


async def run(runtime: Runtime) -> None:
    """The notifications' loop of the alerting service (idle while no channel is configured)."""
    settings = runtime.settings
    async with httpx.AsyncClient() as client:
        while True:
            if channels_on(settings):
                await plan_digests(runtime.engine, settings)
                await deliver_due(runtime.engine, settings, client)
            await asyncio.sleep(settings.notify_poll_seconds)
