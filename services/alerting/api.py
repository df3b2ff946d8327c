"""Alert routes: list with counts per level, detail with history, and the SSE push stream."""

import asyncio
import contextlib
import time
from dataclasses import dataclass
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy import func, select

from backbone.clock import clock
from backbone.errors import NotFound
from backbone.eventstore import FeedCursor
from backbone.identity import CurrentPrincipal, Principal
from backbone.pages import Page, PagingDep
from backbone.paging import newest_first
from backbone.service import RuntimeDep
from backbone.settings import get_settings
from backbone.streams import StreamSlots
from backbone.workdays import SHANGHAI, default_calendar
from contracts.alerting import AlertBreachRepeated, AlertRaised, AlertTransitioned
from contracts.values import AlertAction, AlertLevel, AlertStatus
from services.alerting.dispositions import relations
from services.alerting.lifecycle import replay
from services.alerting.projections import alerts, scope_filter
from services.alerting.measures_api import CircularOut, RecoveryOut, ReferralOut, measures_of, recovery_of
from services.alerting.suspensions_api import SuspensionOut, suspension_of

router = APIRouter(prefix="/api/v1", tags=["alerting"])
ALERT_EVENTS = (AlertRaised.event_type, AlertTransitioned.event_type, AlertBreachRepeated.event_type)
WAITING_FOR = {"yellow_bell": "the expected work (黄色警铃)", "yellow": "verification (核实)",
               "red": "correction (纠正)"}
STREAM_POLL_SECONDS = 1.0


class AlertOut(BaseModel):
    id: str
    rule_id: str
    rule_number: str
    rule_name: str
    level: AlertLevel
    status: str
    subject: dict[str, Any]
    period: str
    org_unit: str | None
    owner_division: str | None
    explanation: dict[str, Any]
    raised_at: datetime
    updated_at: datetime
    version: int
    waiting_for: str | None = Field(description="The step an open alert waits at; null once closed.")
    step_since: datetime | None
    occurrences: int = Field(description="How often the rule was broken by this subject in this period.")


class HistoryEntry(BaseModel):
    version: int
    event_type: str
    at: datetime
    working_days: int = Field(description="Working days the alert stayed at the step this event began "
                                          "(until the next step, or until now).")
    actor: str
    trace_id: str | None = Field(None, description="The trace of the request that caused this step.")
    payload: dict[str, Any]


class CoVerification(BaseModel):
    """A suspicious item counts as verified once the division's 处理单 and the supervision bureau's concurrence are
    both recorded."""

    verification_sheet: str | None = Field(description="The division's verification (处理单), once recorded.")
    concurrence_sheet: str | None = Field(description="The supervision bureau's concurrence, once recorded.")
    verified: bool
    awaiting: list[Literal["division", "supervision"]] = Field(description="Who is still awaited.")


class AlertDetail(AlertOut):
    history: list[HistoryEntry]
    allowed_actions: list[AlertAction] = Field(description="What the caller may do with the alert now.")
    referral: ReferralOut | None = Field(None, description="The case in the supervision bureau's inbox (移交).")
    circular: CircularOut | None = Field(None, description="The circular (通报) the alert gave rise to.")
    suspension: SuspensionOut | None = Field(None, description="The suspension (暂缓拨付) its measure put on the "
                                                               "indicator, where it stands.")
    recovery: RecoveryOut | None = Field(None, description="The recovery (收回资金) its measures ordered: what came "
                                                           "back through the ledger and what is short.")
    co_verification: CoVerification | None = Field(None, description="For a suspicious item (疑点, 第二十四条(三)): "
                                                                      "the sheets recorded and who is still awaited.")


class AlertPage(Page[AlertOut]):
    counts: dict[str, int] = Field(description="Open alerts per level, within the caller's scope and filters.")


def _alert_out(row: Any) -> AlertOut:
    m = row._mapping
    return AlertOut(
        id=m["alert_id"], subject={"kind": m["subject_kind"], "id": m["subject_id"], "indicator_id": m["indicator_id"]},
        waiting_for=WAITING_FOR[m["level"]] if m["status"] == AlertStatus.OPEN else None,
        **{k: m[k] for k in AlertOut.model_fields if k in m and k not in ("id", "subject", "waiting_for")},
    )


@dataclass
class AlertFilters:
    """The query filters of GET /alerts and of its export."""

    level: AlertLevel | None = None
    status: str | None = None
    rule: str | None = Query(None, description="Rule id.")
    org_unit: str | None = None
    owner_division: str | None = None
    raised_from: AwareDatetime | None = Query(None, description="Raised at or after this instant.")
    raised_to: AwareDatetime | None = Query(None, description="Raised before this instant.")

    def conditions(self, principal: Principal) -> list[Any]:
        """WHERE clauses of the filters within the caller's scope."""
        where = scope_filter(principal)
        for column, value in ((alerts.c.level, self.level), (alerts.c.status, self.status),
                              (alerts.c.rule_id, self.rule), (alerts.c.org_unit, self.org_unit),
                              (alerts.c.owner_division, self.owner_division)):
            if value is not None:
                where.append(column == value)
        if self.raised_from is not None:
            where.append(alerts.c.raised_at >= self.raised_from)
        if self.raised_to is not None:
            where.append(alerts.c.raised_at < self.raised_to)
        return where


@router.get("/alerts", response_model=AlertPage)
async def list_alerts(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    wanted: Annotated[AlertFilters, Depends()],
    asked: PagingDep,
) -> AlertPage:
    """Alerts the caller may see, newest first, with counts per level for dashboards."""
    where = wanted.conditions(principal)
    async with runtime.engine.connect() as conn:
        rows, next_cursor = await newest_first(conn, select(alerts).where(*where), alerts.c.raised_at,
                                               alerts.c.alert_id, asked.cursor, asked.limit)
        counts = (await conn.execute(select(alerts.c.level, func.count()).where(*where,
                                                                                alerts.c.status == AlertStatus.OPEN)
                                     .group_by(alerts.c.level))).tuples().all()
    return AlertPage(items=[_alert_out(r) for r in rows], counts={lv.value: 0 for lv in AlertLevel} | dict(counts),
                     next_cursor=next_cursor)


STREAMS = StreamSlots(per_person=get_settings().max_streams_per_person, total=get_settings().max_streams,
                      service="alerting")


async def stream_slot(principal: CurrentPrincipal) -> AsyncIterator[None]:
    """Refuse a stream past the caps before it starts (once it flows, its status has been sent), and hold its
    place until the request ends: FastAPI closes this after the stream, even when the caller left first. Async, so
    that the count is only ever touched on the event loop."""
    with STREAMS.claim(principal.subject):
        yield


@router.get("/alerts/stream", response_class=EventSourceResponse)
async def stream_alerts(
    request: Request,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    last_event_id: str | None = Header(None, alias="Last-Event-ID"),
    _: None = Depends(stream_slot),
) -> AsyncIterator[ServerSentEvent]:
    """Server-Sent Events of alert changes the caller may see, from now on or after `Last-Event-ID`;
    the stream ends when the caller's sign-in expires. A person holds at most FUNDWATCH_MAX_STREAMS_PER_PERSON
    streams, the service FUNDWATCH_MAX_STREAMS in all (429 with Retry-After beyond)."""
    try:
        cursor = FeedCursor.parse(last_event_id) if last_event_id else None
    except ValueError:
        cursor = None
    if cursor is None:
        async with runtime.engine.connect() as conn:
            cursor = await runtime.store.head(conn)
    wake = runtime.notifier.subscribe()
    try:
        while not await request.is_disconnected():
            if principal.session_expires is not None and time.time() >= principal.session_expires:
                return
            wake.clear()
            async with runtime.engine.connect() as conn:
                batch = await runtime.store.read_all(conn, cursor, event_types=ALERT_EVENTS)
            for position, env in batch:
                cursor = position
                if principal.can_see(org_unit=env.payload.get("org_unit"),
                                     owner_division=env.payload.get("owner_division")):
                    yield ServerSentEvent(id=str(position), event=env.event_type.split(".")[-1],
                                          data={**env.payload, "version": env.version})
            if batch:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=STREAM_POLL_SECONDS)
    finally:
        runtime.notifier.unsubscribe(wake)


@router.get("/alerts/{alert_id}", response_model=AlertDetail)
async def get_alert(alert_id: str, principal: CurrentPrincipal, runtime: RuntimeDep) -> AlertDetail:
    """One alert with its explanation and full history."""
    async with runtime.engine.connect() as conn:
        row = (await conn.execute(select(alerts).where(alerts.c.alert_id == alert_id, *scope_filter(principal)))).first()
        if row is None:
            raise NotFound(f"alert {alert_id} does not exist")
        events = await runtime.store.read_stream(conn, f"alert-{alert_id}")
        referral, circular = await measures_of(conn, alert_id)
        suspension = await suspension_of(conn, alert_id)
        recovery = await recovery_of(conn, alert_id)
    now = clock().local_now()
    calendar = default_calendar()
    ends = [e.occurred_at for e in events[1:]] + [now]
    history = [HistoryEntry(version=e.version, event_type=e.event_type, at=e.occurred_at, actor=e.metadata.actor,
                            working_days=calendar.workdays_between(e.occurred_at.astimezone(SHANGHAI).date(),
                                                                   end.astimezone(SHANGHAI).date()),
                            trace_id=e.metadata.traceparent.split("-")[1] if e.metadata.traceparent else None,
                            payload=e.payload) for e, end in zip(events, ends, strict=True)]
    alert = replay(events)
    allowed = alert.allowed(relations(principal, alert)) if alert else []
    co_verification = alert.co_verification() if alert else None
    return AlertDetail(**_alert_out(row).model_dump(), history=history, allowed_actions=allowed, referral=referral,
                       circular=circular, suspension=suspension, recovery=recovery,
                       co_verification=CoVerification(**co_verification) if co_verification else None)
