"""暂缓拨付: suspending an indicator from a sheet's measure, and lifting it (its division asks, the supervision
bureau consents or refuses)."""

from datetime import datetime

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.clock import clock
from backbone.errors import Forbidden, InvalidInput, NotFound, fault
from backbone.identity import CurrentPrincipal, Principal
from backbone.service import Runtime, RuntimeDep
from contracts.alerting import DisposalSheet
from services.alerting.dispositions import owns
from services.alerting.lifecycle import AlertState
from services.alerting.projections import alerts, suspensions
from services.alerting.suspensions import Standing, decide_lift, request_lift, suspend

router = APIRouter(prefix="/api/v1", tags=["alerting"])
IndicatorId = Annotated[str, PathParam(max_length=200)]


class SuspensionOut(BaseModel):
    """An indicator's suspension where it stands: who suspended it by which sheet, the lift asked and decided."""

    indicator_id: str
    state: Standing
    alert_id: str
    sheet_number: str
    org_unit: str | None
    owner_division: str | None
    suspended_by: str
    suspended_at: datetime
    lift_reason: str | None
    lift_requested_by: str | None
    decided_by: str | None
    decided_at: datetime | None
    version: int


class LiftRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=4000, description="Why the suspension may be lifted (已整改 …).")


class LiftDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    consent: bool = Field(description="true: the suspension is lifted; false: it stays.")
    reason: str = Field(min_length=1, max_length=4000)


async def suspend_from_sheet(conn: AsyncConnection, runtime: Runtime, alert: AlertState, sheet: DisposalSheet,
                             principal: Principal, now: datetime) -> str:
    """Suspend the indicator the alert concerns; a second sheet while it is suspended adds nothing."""
    indicator_id = await conn.scalar(select(alerts.c.indicator_id).where(alerts.c.alert_id == alert.alert_id))
    if not indicator_id:
        raise InvalidInput("暂缓拨付 needs an alert about an indicator: this one names none",
                           errors=[fault("body.measures", "暂缓拨付: the alert names no indicator to suspend")])
    row = await _row(conn, indicator_id)
    event = suspend(indicator_id=indicator_id, standing=Standing(row.state) if row else Standing.LIFTED,
                    alert_id=alert.alert_id, sheet_number=sheet.number, org_unit=alert.org_unit,
                    owner_division=alert.owner_division, by=principal.subject, now=now)
    if event is not None:
        await runtime.store.append(conn, stream_id=f"suspension-{indicator_id}", stream_type="suspension",
                                   expected_version=row.version if row else 0, events=[event],
                                   meta=runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit))
    return indicator_id


async def suspension_of(conn: AsyncConnection, alert_id: str) -> SuspensionOut | None:
    """The suspension an alert's measure put on its indicator, if any (and the alert still the latest to)."""
    row = (await conn.execute(select(suspensions).where(suspensions.c.alert_id == alert_id))).first()
    return SuspensionOut(**row._mapping) if row else None


async def _row(conn: AsyncConnection, indicator_id: str, *, lock: bool = False) -> Any:
    query = select(suspensions).where(suspensions.c.indicator_id == indicator_id)
    return (await conn.execute(query.with_for_update() if lock else query)).first()


async def _visible(conn: AsyncConnection, principal: Principal, indicator_id: str, *, lock: bool = True) -> Any:
    row = await _row(conn, indicator_id, lock=lock)
    if row is None or not principal.can_see(org_unit=row.org_unit, owner_division=row.owner_division):
        raise NotFound(f"indicator {indicator_id} has no suspension")
    return row


@router.get("/suspensions/{indicator_id}", response_model=SuspensionOut)
async def get_suspension(indicator_id: IndicatorId, principal: CurrentPrincipal, runtime: RuntimeDep) -> SuspensionOut:
    """An indicator's suspension (暂缓拨付) where it stands."""
    async with runtime.engine.connect() as conn:
        return SuspensionOut(**(await _visible(conn, principal, indicator_id, lock=False))._mapping)


@router.post("/suspensions/{indicator_id}/lift-request", response_model=SuspensionOut)
async def post_lift_request(indicator_id: IndicatorId, body: LiftRequestIn, principal: CurrentPrincipal,
                            runtime: RuntimeDep) -> SuspensionOut:
    """The division that owns the fund asks to lift the suspension; asked already is a 409."""
    async with runtime.engine.begin() as conn:
        row = await _visible(conn, principal, indicator_id)
        if not owns(principal, row.owner_division):
            raise Forbidden("only the division that owns the fund asks to lift its suspension")
        event = request_lift(indicator_id=indicator_id, standing=Standing(row.state), reason=body.reason,
                             by=principal.subject, now=clock().now())
        await _append(conn, runtime, principal, row, event)
        return SuspensionOut(**(await _row(conn, indicator_id))._mapping)


@router.post("/suspensions/{indicator_id}/lift-decision", response_model=SuspensionOut)
async def post_lift_decision(indicator_id: IndicatorId, body: LiftDecisionIn, principal: CurrentPrincipal,
                             runtime: RuntimeDep) -> SuspensionOut:
    """The supervision bureau consents (lifted) or refuses (it stays); with no request waiting, a 409."""
    async with runtime.engine.begin() as conn:
        row = await _visible(conn, principal, indicator_id)
        event = decide_lift(indicator_id=indicator_id, standing=Standing(row.state), consent=body.consent,
                            reason=body.reason, by=principal.subject, now=clock().now())
        await _append(conn, runtime, principal, row, event)
        return SuspensionOut(**(await _row(conn, indicator_id))._mapping)


async def _append(conn: AsyncConnection, runtime: Runtime, principal: Principal, row: Any, event: Any) -> None:
    await runtime.store.append(conn, stream_id=f"suspension-{row.indicator_id}", stream_type="suspension",
                               expected_version=row.version, events=[event],
                               meta=runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit))
