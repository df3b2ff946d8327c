"""What alerting's own events send: a red light and an overdue step plan their messages at once, a yellow bell
waits for its day's digest. A consumer group of its own on alerting's topic: an event delivered twice is applied
once (processed_events), and a message planned twice is one row (its unique key)."""

from collections.abc import Mapping, Sequence
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.clock import clock
from backbone.consumer import Handler
from backbone.service import Runtime
from backbone.settings import Settings
from backbone.workdays import SHANGHAI
from contracts.alerting import AlertRaised, AlertTransitioned
from contracts.envelope import EventEnvelope
from contracts.notifications import Person
from services.alerting.notifications.channels import channels_on
from services.alerting.notifications.domain import (Liaisons, Planned, offices_of, plan_alert_event, rang_bell,
                                                    too_old, turned_red)
from services.alerting.notifications.projections import deliveries, digest_bells, liaisons

log = structlog.get_logger(__name__)


async def register_of(conn: AsyncConnection, units: Sequence[str]) -> dict[str, Liaisons]:
    """The register's rows of some units."""
    rows = await conn.execute(select(liaisons).where(liaisons.c.unit.in_(list(units))))
    return {r.unit: Liaisons(r.unit, Person(**r.leader), Person(**r.contact)) for r in rows}


async def record(conn: AsyncConnection, planned: Sequence[Planned]) -> None:
    """Keep planned messages for the sender; one already planned under its key stays as it is."""
    if not planned:
        return
    now = clock().now()
    await conn.execute(pg_insert(deliveries).values([
        {"delivery_key": p.key, "channel": p.channel.value, "recipient": p.address, "unit": p.unit,
         "role": p.role.value, "kind": p.kind.value, "subject_key": p.subject_key, "title": p.title, "body": p.body,
         "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now} for p in planned
    ]).on_conflict_do_nothing(index_elements=[deliveries.c.delivery_key]))


def handler(settings: Settings) -> Handler:
    async def on_alert_event(conn: AsyncConnection, env: EventEnvelope) -> None:
        channels = channels_on(settings)
        if not channels or too_old(env.occurred_at, clock().now(), settings.notify_max_age_hours):
            return
        payload: Mapping[str, Any] = env.payload
        register = await register_of(conn, [*offices_of(payload), payload.get("org_unit") or ""])
        await record(conn, plan_alert_event(env.event_type, payload, register, channels))
        if turned_red(env.event_type, payload):
            for office in set(offices_of(payload)) - register.keys():
                log.warning("notify.nobody_to_reach", alert_id=payload["alert_id"], office=office)
        if rang_bell(env.event_type, payload):
            await _keep_bell(conn, payload)
    return on_alert_event


async def _keep_bell(conn: AsyncConnection, payload: Mapping[str, Any]) -> None:
    bell = AlertRaised.model_validate(payload)
    day = bell.raised_at.astimezone(SHANGHAI).date()
    rows = [{"alert_id": bell.alert_id, "office": office, "day": day, "rule_number": bell.rule_number,
             "rule_name": bell.rule_name, "summary": str(bell.explanation.get("summary") or "")}
            for office in offices_of(payload)]
    if rows:
        await conn.execute(pg_insert(digest_bells).values(rows).on_conflict_do_nothing())


def handlers(runtime: Runtime) -> Mapping[str, Handler]:
    """What the notifications consumer group handles, by event type."""
    on_alert_event = handler(runtime.settings)
    return {AlertRaised.event_type: on_alert_event, AlertTransitioned.event_type: on_alert_event}
