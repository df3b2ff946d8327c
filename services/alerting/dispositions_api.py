"""Handling alerts: disposal sheets (处理单) at each human step, and their list (the export is in export.py)."""

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy import Select, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from backbone.clock import clock
from backbone.errors import ConcurrencyConflict, NotFound, fault
from backbone.identity import CurrentPrincipal, Principal
from backbone.pages import Page, PagingDep
from backbone.paging import newest_first
from backbone.service import RuntimeDep
from contracts.alerting import DisposalSheet
from contracts.values import AlertAction, AlertLevel, AlertStatus
from services.alerting.dispositions import DispositionIn, relations, sheet_number
from services.alerting.lifecycle import decide, moved, replay
from services.alerting.measures import CIRCULATE, RECOVER, REFER, check_correction, takes
from services.alerting.measures_api import open_circular, open_recovery, open_referral, recovery_standing
from services.alerting.projections import alerts, dispositions, scope_filter, sheet_counters
from services.alerting.suspensions import SUSPEND_MEASURE
from services.alerting.suspensions_api import suspend_from_sheet

router = APIRouter(prefix="/api/v1", tags=["alerting"])


class DispositionOut(BaseModel):
    alert_id: str
    sheet: DisposalSheet
    level: AlertLevel
    status: AlertStatus
    version: int
    allowed_actions: list[AlertAction]
    referral: str | None = Field(None, description="The case number in the supervision bureau's inbox, when the "
                                                   "sheet's measures refer the alert (移交监督局).")
    circular: str | None = Field(None, description="The circular's number, when the sheet's measures circulate "
                                                   "the alert (通报).")
    suspended_indicator: str | None = Field(None, description="The indicator suspended, when the sheet's measures "
                                                              "suspend it (暂缓拨付).")
    recovered: str | None = Field(None, description="The amount the ledger is ordered to withdraw, when the sheet's "
                                                    "measures recover funds (收回资金, its 退回金额).")


@router.post("/alerts/{alert_id}/dispositions", status_code=201, response_model=DispositionOut)
async def post_disposition(alert_id: str, body: DispositionIn, principal: CurrentPrincipal,
                           runtime: RuntimeDep) -> DispositionOut:
    """Record a disposal sheet and take the alert's next step; an impossible step is a 409 naming the possible ones."""
    now = clock().local_now()
    async with runtime.engine.begin() as conn:
        visible = await conn.scalar(select(alerts.c.alert_id).where(alerts.c.alert_id == alert_id,
                                                                    *scope_filter(principal)))
        if visible is None:
            raise NotFound(f"alert {alert_id} does not exist")
        alert = replay(await runtime.store.read_stream(conn, f"alert-{alert_id}"))
        if alert is None:
            raise NotFound(f"alert {alert_id} does not exist")
        if body.expected_version is not None and body.expected_version != alert.version:
            raise ConcurrencyConflict(
                f"the alert changed since version {body.expected_version}: it is at {alert.version}",
                errors=[fault("expected_version", f"the alert is at version {alert.version}")],
                allowed=[a.value for a in alert.allowed(relations(principal, alert))])
        # The counter row is taken in this transaction: a refused step gives its number back.
        serial = await conn.scalar(pg_insert(sheet_counters).values(year=now.year, last=1).on_conflict_do_update(
            index_elements=[sheet_counters.c.year], set_={"last": sheet_counters.c.last + 1})
            .returning(sheet_counters.c.last))
        sheet = body.sheet(sheet_number(now.year, serial), principal)
        event = decide(alert, AlertAction(body.action), by=relations(principal, alert), now=now, sheet=sheet)
        if event.action is AlertAction.RECORD_CORRECTION:
            check_correction(await recovery_standing(conn, alert_id))
        await runtime.store.append(conn, stream_id=f"alert-{alert_id}", stream_type="alert",
                                   expected_version=alert.version, events=[event],
                                   meta=runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit))
        referral = (await open_referral(conn, runtime, alert, sheet, principal, now)
                    if takes(REFER, event.action, sheet) else None)
        circular = (await open_circular(conn, runtime, alert, sheet, body.circulate_against, principal, now)
                    if takes(CIRCULATE, event.action, sheet) else None)
        suspended = (await suspend_from_sheet(conn, runtime, alert, sheet, principal, now)
                     if takes(SUSPEND_MEASURE, event.action, sheet) else None)
        recovered = (await open_recovery(conn, runtime, alert, sheet, principal, now)
                     if takes(RECOVER, event.action, sheet) else None)
    after = moved(alert, event, alert.version + 1)
    return DispositionOut(alert_id=alert_id, sheet=sheet, level=event.to_level, status=event.to_status,
                          version=after.version, allowed_actions=after.allowed(relations(principal, after)),
                          referral=referral, circular=circular,
                          suspended_indicator=suspended, recovered=recovered)


class DispositionRow(BaseModel):
    number: str
    alert_id: str
    rule_number: str | None
    action: str
    from_level: str
    to_level: str
    to_status: str
    handled_at: datetime
    org_unit: str | None
    owner_division: str | None
    sheet: dict[str, Any]


def visible_sheets(principal: Principal, alert_id: str | None, handled_from: datetime | None,
                   handled_to: datetime | None) -> Select[Any]:
    """The disposal sheets on alerts the caller may see, in no order (the list and the export give theirs)."""
    q = (select(dispositions).join(alerts, alerts.c.alert_id == dispositions.c.alert_id)
         .where(*scope_filter(principal)))
    if alert_id:
        q = q.where(dispositions.c.alert_id == alert_id)
    if handled_from:
        q = q.where(dispositions.c.handled_at >= handled_from)
    if handled_to:
        q = q.where(dispositions.c.handled_at < handled_to)
    return q


@router.get("/dispositions", response_model=Page[DispositionRow])
async def list_dispositions(principal: CurrentPrincipal, runtime: RuntimeDep, asked: PagingDep,
                            alert_id: str | None = None, handled_from: AwareDatetime | None = None,
                            handled_to: AwareDatetime | None = None) -> Page[DispositionRow]:
    """Disposal sheets on alerts the caller may see, newest first by (handled_at, number)."""
    async with runtime.engine.connect() as conn:
        rows, next_cursor = await newest_first(conn, visible_sheets(principal, alert_id, handled_from, handled_to),
                                               dispositions.c.handled_at, dispositions.c.number, asked.cursor,
                                               asked.limit)
    return Page[DispositionRow](items=[DispositionRow(**r._mapping) for r in rows], next_cursor=next_cursor)
