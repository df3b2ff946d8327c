"""Writing alert events for the system: one alert per (rule, subject, period), updated on a repeated
breach, moved by the clocks. Used by the consumers and the scheduler alike."""

from typing import Any, NamedTuple

import structlog
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.clock import clock
from backbone.eventstore import EventStore
from backbone.lifecycle import StepOutOfTurn
from backbone.metrics import ALERTS_RAISED
from contracts.alerting import AlertBreachRepeated, AlertRaised
from contracts.values import AlertAction
from services.alerting.domain import raise_alert
from services.alerting.lifecycle import decide, replay
from services.alerting.projections import alerts
from services.alerting.rules.engine import Breach

log = structlog.get_logger(__name__)
SYSTEM = frozenset({"system"})
ACTOR = "system:alerting"
_ALERT_NOW = select(alerts.c.version, alerts.c.explanation).where(alerts.c.alert_id == bindparam("b_alert"))


class AlertNow(NamedTuple):
    """Where an alert's stream stands: its version and the explanation it last gave."""

    version: int
    explanation: Any


def next_alert_event(event: AlertRaised, now: AlertNow | None) -> tuple[int, AlertRaised | AlertBreachRepeated] | None:
    """What a breach writes, at which version of its alert's stream: the alert raised; the same rule broken again
    by the subject in the period (a new explanation); or nothing when the alert already says so."""
    if now is None:
        return 0, event
    if now.explanation == event.explanation:
        return None
    return now.version, AlertBreachRepeated(alert_id=event.alert_id, rule_id=event.rule_id, org_unit=event.org_unit,
                                            owner_division=event.owner_division, explanation=event.explanation,
                                            at=event.raised_at)


def note_raised(event: AlertRaised) -> None:
    log.info("alert.raised", alert_id=event.alert_id, rule_id=event.rule_id, level=event.level.value)
    ALERTS_RAISED.labels(event.rule_id, event.level.value).inc()


async def raise_or_update(conn: AsyncConnection, store: EventStore, breach: Breach, *, period: str,
                          org_unit: str | None, owner_division: str | None, cause: str,
                          traceparent: str | None = None, bell: bool = False) -> str:
    """Raise the breach's alert, or update it when the same rule is broken again by the subject in the period."""
    event = raise_alert(breach=breach, period=breach.period or period, org_unit=org_unit,
                        owner_division=owner_division, now=clock().now(), bell=bell)
    current = (await conn.execute(_ALERT_NOW, {"b_alert": event.alert_id})).first()
    step = next_alert_event(event, AlertNow(current.version, current.explanation) if current else None)
    if step is not None:
        # Two consumers racing to raise the same alert: the loser's handler is retried and then finds it.
        version, written = step
        await store.append(conn, stream_id=f"alert-{event.alert_id}", stream_type="alert", expected_version=version,
                           events=[written], meta=store.metadata(actor=ACTOR, traceparent=traceparent,
                                                                 causation_id=cause))
        if version == 0:
            note_raised(event)
    return event.alert_id


async def move(conn: AsyncConnection, store: EventStore, alert_id: str, action: AlertAction, reason: str,
               cause: str) -> bool:
    """Take a system step (clear, escalate) on an alert; False when the alert is elsewhere by now."""
    alert = replay(await store.read_stream(conn, f"alert-{alert_id}"))
    if alert is None:
        return False
    try:
        event = decide(alert, action, by=SYSTEM, now=clock().now(), reason=reason)
    except StepOutOfTurn:
        return False  # it moved on meanwhile: nothing left to do
    await store.append(conn, stream_id=f"alert-{alert_id}", stream_type="alert", expected_version=alert.version,
                       events=[event], meta=store.metadata(actor=ACTOR, causation_id=cause))
    log.info("alert.moved", alert_id=alert_id, action=action.value, level=event.to_level.value)
    return True
