"""The daily rollups API (日报, 第二十六条(二)): each district's days within the caller's scope, and a re-run of a
day that makes a new version where the numbers changed."""

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import false, select

from backbone.clock import clock
from backbone.errors import InvalidInput, fault
from backbone.identity import CurrentPrincipal, Principal
from backbone.pages import Page, PagingDep
from backbone.paging import newest_first
from backbone.service import RuntimeDep
from contracts.province import DistrictFigures
from services.sync.domain import DISTRICTS
from services.sync.projections import messages, rollups
from services.sync.rollups import roll_up

router = APIRouter(prefix="/api/v1", tags=["sync"])
FIRST_YEAR = 2000  # the platform's first fiscal year (contracts.values.FiscalYear)


class RollupOut(BaseModel):
    rollup_date: date
    org_unit: str
    version: int = Field(description="1 for the day's first rollup; a re-run that found other numbers adds one.")
    latest: bool = Field(description="Whether this is the latest version of its day and district.")
    reason: str = Field(description="daily (the scheduled run after midnight) or rerun")
    computed_at: datetime
    figures: DistrictFigures
    message_id: str = Field(description="The message that carries this version to the province.")
    exchange_status: str | None = Field(description="Where that message stands: awaiting_authorization, pending, "
                                                    "sent, acknowledged, refused or failed.")


class RerunOut(BaseModel):
    rollup_date: date
    made: list[RollupOut] = Field(description="The new versions: the districts whose numbers changed.")
    unchanged: int = Field(description="Districts whose latest version still holds.")


def _visible(principal: Principal) -> list[Any]:
    """A district sees its own rollups; the bureau's citywide roles every district's."""
    if principal.citywide:
        return []
    if "district" in principal.roles and principal.org_unit:
        return [rollups.c.org_unit == principal.org_unit]
    return [false()]


def _out(row: Any) -> RollupOut:
    return RollupOut(rollup_date=row.rollup_date, org_unit=row.org_unit, version=row.version, latest=row.latest,
                     reason=row.reason, computed_at=row.computed_at, figures=DistrictFigures.model_validate(row.figures),
                     message_id=row.message_id, exchange_status=row.exchange_status)


_LISTED = select(rollups, messages.c.status.label("exchange_status")).select_from(
    rollups.outerjoin(messages, messages.c.message_id == rollups.c.message_id))


@router.get("/rollups", response_model=Page[RollupOut])
async def list_rollups(
    principal: CurrentPrincipal, runtime: RuntimeDep, asked: PagingDep,
    day: Annotated[date | None, Query(alias="date", description="The day rolled up (Beijing).")] = None,
    org_unit: Annotated[str | None, Query(max_length=20)] = None,
    all_versions: Annotated[bool, Query(description="Earlier versions too, not only the latest of each day.")] = False,
) -> Page[RollupOut]:
    """Daily rollups within the caller's scope, newest first by (computed_at, org_unit)."""
    q = _LISTED.where(*_visible(principal))
    if day is not None:
        q = q.where(rollups.c.rollup_date == day)
    if org_unit is not None:
        q = q.where(rollups.c.org_unit == org_unit)
    if not all_versions:
        q = q.where(rollups.c.latest)
    async with runtime.engine.connect() as conn:
        rows, next_cursor = await newest_first(conn, q, rollups.c.computed_at, rollups.c.org_unit, asked.cursor,
                                               asked.limit)
    return Page[RollupOut](items=[_out(r) for r in rows], next_cursor=next_cursor)


@router.post("/rollups/{rollup_date}/rerun", response_model=RerunOut)
async def rerun(principal: CurrentPrincipal, runtime: RuntimeDep,
                rollup_date: Annotated[date, Path(description="A day that is over (Beijing).")]) -> RerunOut:
    """Roll a past day up again: a new version for each district whose numbers changed since its latest
    (a late correction), nothing for the others."""
    day = rollup_date
    if day >= clock().today():
        raise InvalidInput(f"{day} is not over yet: only a past day is rolled up",
                           errors=[fault("rollup_date", "must be a day before today (Beijing)")])
    if day.year < FIRST_YEAR:
        raise InvalidInput(f"{day} is before the platform's fiscal years",
                           errors=[fault("rollup_date", f"must be in {FIRST_YEAR} or later")])
    async with runtime.engine.begin() as conn:
        made = await roll_up(conn, runtime.store, runtime.settings, day, reason="rerun", actor=principal.subject)
        rows = (await conn.execute(_LISTED.where(
            rollups.c.rollup_date == day, rollups.c.org_unit.in_([e.org_unit for e in made]), rollups.c.latest)
            .order_by(rollups.c.org_unit))).all()
    return RerunOut(rollup_date=day, made=[_out(r) for r in rows], unchanged=len(DISTRICTS) - len(made))
