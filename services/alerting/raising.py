"""Writing alert events for the system: one alert per (rule, subject, period), updated on a repeated
breach, moved by the clocks. Used by the consumers and the scheduler alike."""


import structlog
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.clock import clock
from backbone.eventstore import EventStore
from backbone.lifecycle import StepOutOfTurn
from backbone.metrics import ALERTS_RAISED
from contracts.alerting import AlertBreachRepeated
from contracts.values import AlertAction
from services.alerting.domain import raise_alert
from services.alerting.lifecycle import decide, replay
from services.alerting.projections import alerts
from services.alerting.rules.engine import Breach

log = structlog.get_logger(__name__)
SYSTEM = frozenset({"system"})
ACTOR = "system:alerting"
_ALERT_NOW = select(alerts.c.version, alerts.c.explanation).where(alerts.c.alert_id == bindparam("b_alert"))


async def raise_or_update(conn: AsyncConnection, store: EventStore, breach: Breach, *, period: str,
                          org_unit: str | None, owner_division: str | None, cause: str,
                          traceparent: str | None = None, bell: bool = False) -> str:
    """Raise the breach's alert, or update it when the same rule is broken again by the subject in the period."""
    event = raise_alert(breach=breach, period=breach.period or period, org_unit=org_unit,
                        owner_division=owner_division, now=clock().now(), bell=bell)
    meta = store.metadata(actor=ACTOR, traceparent=traceparent, causation_id=cause)
    current = (await conn.execute(_ALERT_NOW, {"b_alert": event.alert_id})).first()
    if current is None:
        # Two consumers racing to raise the same alert: the loser's handler is retried and then finds it.
        await store.append(conn, stream_id=f"alert-{event.alert_id}", stream_type="alert", expected_version=0,
                           events=[event], meta=meta)
        log.info("alert.raised", alert_id=event.alert_id, rule_id=breach.rule.id, level=event.level.value)
        ALERTS_RAISED.labels(breach.rule.id, event.level.value).inc()
    elif current.explanation != event.explanation:
        await store.append(conn, stream_id=f"alert-{event.alert_id}", stream_type="alert",
                           expected_version=current.version, meta=meta, events=[AlertBreachRepeated(
                               alert_id=event.alert_id, rule_id=event.rule_id, org_unit=org_unit,
                               owner_division=owner_division, explanation=event.explanation, at=event.raised_at)])
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
