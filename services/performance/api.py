"""Performance goals (绩效目标), read: a goal with its reports and self-evaluation, the list, the per-unit summary
and a goal's history. Also what every goal route shares: the goal as it is answered (`GoalOut`), the caller's
scope, the goal's row and a step appended to its stream. Filing is in filings_api.py, the review in review_api.py,
the export in export.py."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.clock import clock
from backbone.errors import NotFound
from backbone.identity import CurrentPrincipal, Principal
from backbone.pages import Page, PagingDep, sorted_page
from backbone.paging import cursor_integer, newest_first
from backbone.service import Runtime, RuntimeDep
from backbone.workdays import SHANGHAI, year_progress
from contracts.values import FiscalYear
from services.performance.domain import money_progress, return_id_of, returns_of
from services.performance.projections import evaluations, goals, indicators, reports

router = APIRouter(prefix="/api/v1", tags=["performance"])


class GoalOut(BaseModel):
    id: str
    indicator_id: str
    fiscal_year: FiscalYear
    org_unit: str
    owner_division: str
    goal: str
    indicators: list[dict[str, Any]]
    status: str = Field(description="filed, accepted or returned")
    review_reasons: str | None
    rectify_by: date | None
    reports: list[dict[str, Any]] = Field(default_factory=list, description="Execution reports with deviations.")
    evaluation: dict[str, Any] | None = Field(None, description="The year-end self-evaluation (绩效自评).")
    money_progress: Decimal | None = Field(None, description="Paid less refunded over the amount, as known now.")
    time_progress: Decimal | None = Field(None, description="Share of the fiscal year gone by today (序时进度).")
    updated_at: datetime | None = Field(None, description="When the goal last moved (filed, reviewed).")


@router.get("/performance-goals", response_model=Page[GoalOut])
async def list_goals(principal: CurrentPrincipal, runtime: RuntimeDep, asked: PagingDep,
                     fiscal_year: FiscalYear | None = None, org_unit: str | None = None,
                     owner_division: str | None = None, status: str | None = None) -> Page[GoalOut]:
    """Goals within the caller's scope, newest first by (set_at, goal_id); each goal's reports are in its detail."""
    q = select(goals).where(*visible(principal))
    for column, value in ((goals.c.fiscal_year, fiscal_year), (goals.c.org_unit, org_unit),
                          (goals.c.owner_division, owner_division), (goals.c.status, status)):
        if value is not None:
            q = q.where(column == value)
    async with runtime.engine.connect() as conn:
        rows, next_cursor = await newest_first(conn, q, goals.c.set_at, goals.c.goal_id, asked.cursor, asked.limit)
    return Page[GoalOut](items=[_out(r, []) for r in rows], next_cursor=next_cursor)


def visible(principal: Principal) -> list[Any]:
    """The goals the caller may see: by the goal's org unit and the division owning its fund."""
    return principal.where_visible(goals.c.org_unit, goals.c.owner_division)


async def goal_row(conn: AsyncConnection, principal: Principal, goal_id: str, *, lock: bool = False) -> Any:
    """A goal's row within the caller's scope; a write locks it, so that the steps of one goal are taken one at a
    time, each on what the one before left."""
    q = select(goals).where(goals.c.goal_id == goal_id, *visible(principal))
    row = (await conn.execute(q.with_for_update() if lock else q)).first()
    if row is None:
        raise NotFound(f"goal {goal_id} does not exist")
    return row


async def goal_detail(conn: AsyncConnection, principal: Principal, goal_id: str, *, lock: bool = False) -> GoalOut:
    """A goal with its reports, its self-evaluation, and money and time progress as known today."""
    row = await goal_row(conn, principal, goal_id, lock=lock)
    filed = (await conn.execute(select(reports).where(reports.c.goal_id == goal_id)
                                .order_by(reports.c.period_end))).all()
    money = (await conn.execute(select(indicators).where(indicators.c.indicator_id == row.indicator_id))).first()
    evaluated = (await conn.execute(select(evaluations).where(evaluations.c.goal_id == goal_id))).first()
    out = _out(row, [_plain(r) for r in filed])
    out.evaluation = _plain(evaluated) if evaluated else None
    today = clock().today()
    out.money_progress = money_progress(money.amount, money.paid, money.refunded) if money is not None else None
    out.time_progress = year_progress(today) if today.year == row.fiscal_year else None
    return out


def _plain(row: Any) -> dict[str, Any]:
    return {k: (format(v, "f") if isinstance(v, Decimal) else v) for k, v in row._mapping.items()}


async def append_step(conn: Any, runtime: Runtime, principal: Principal, goal_id: str, event: Any) -> None:
    """Add a step at the head of a goal's stream: the caller holds the goal's row (`goal_detail(lock=True)`), or
    the goal is new and a first step set beside it is a 409."""
    version = await runtime.store.version(conn, f"goal-{goal_id}")
    await runtime.store.append(conn, stream_id=f"goal-{goal_id}", stream_type="goal", expected_version=version,
                               events=[event],
                               meta=runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit))


async def returns_so_far(conn: Any, runtime: Runtime, goal_id: str, filing: str) -> int:
    """How many times a filing of the goal (`goals`, `evaluation` or a report_id) was returned, from its stream."""
    history = await runtime.store.read_stream(conn, f"goal-{goal_id}")
    return returns_of([(e.event_type, e.payload) for e in history], filing)


async def answered_return(conn: Any, runtime: Runtime, goal_id: str, filing: str, resubmission: bool) -> str | None:
    """The return a filing filed again answers (what its 整改期限 clock waits for); None for a first filing."""
    if not resubmission:
        return None
    return return_id_of(goal_id, filing, await returns_so_far(conn, runtime, goal_id, filing))


def event_scope(goal: GoalOut) -> dict[str, Any]:
    """The fields every goal event carries to route it."""
    return {"goal_id": goal.id, "indicator_id": goal.indicator_id, "fiscal_year": goal.fiscal_year,
            "org_unit": goal.org_unit, "owner_division": goal.owner_division}


def _out(row: Any, filed: list[dict[str, Any]]) -> GoalOut:
    m = row._mapping
    return GoalOut(id=m["goal_id"], reports=filed, **{k: m[k] for k in GoalOut.model_fields if k in m})


class UnitSummary(BaseModel):
    """One org unit's filing and review status (第七条(二)3)."""

    org_unit: str
    goals: dict[str, int] = Field(description="Goals by status: filed, accepted, returned.")
    reports: dict[str, int] = Field(description="Execution reports by status.")
    evaluations: dict[str, int] = Field(description="Self-evaluations by status.")
    severe_reports: int = Field(description="Reports with at least one severe deviation.")


@router.get("/performance-goals/summary", response_model=Page[UnitSummary])
async def summary(principal: CurrentPrincipal, runtime: RuntimeDep, asked: PagingDep,
                  fiscal_year: FiscalYear) -> Page[UnitSummary]:
    """Per org unit: how many goals, reports and self-evaluations are filed, accepted or returned. In the order of
    the org units' codes, not newest first (a summary has no date); the cursor is the last org unit."""
    async with runtime.engine.connect() as conn:
        counts: dict[str, UnitSummary] = {}

        def unit(org_unit: str) -> UnitSummary:
            return counts.setdefault(org_unit, UnitSummary(org_unit=org_unit, goals={}, reports={}, evaluations={},
                                                           severe_reports=0))
        for table, field in ((goals, "goals"), (reports, "reports"), (evaluations, "evaluations")):
            q = select(goals.c.org_unit, table.c.status, func.count()).where(goals.c.fiscal_year == fiscal_year)
            if table is not goals:
                q = q.join_from(table, goals, goals.c.goal_id == table.c.goal_id)
            for org_unit, status, n in await conn.execute(q.group_by(goals.c.org_unit, table.c.status)):
                getattr(unit(org_unit), field)[status] = n
        for org_unit, n in await conn.execute(
                select(goals.c.org_unit, func.count()).join_from(reports, goals, goals.c.goal_id == reports.c.goal_id)
                .where(goals.c.fiscal_year == fiscal_year, reports.c.severe_count > 0).group_by(goals.c.org_unit)):
            unit(org_unit).severe_reports = n
    # A division's goals span districts: the summary is for those who oversee units (citywide, or the district).
    overseen = [s for org, s in counts.items() if principal.citywide or org == principal.org_unit]
    units, next_cursor = sorted_page(overseen, lambda s: (s.org_unit, s.org_unit), asked)
    return Page[UnitSummary](items=units, next_cursor=next_cursor)


class StepOut(BaseModel):
    version: int
    event_type: str
    actor: str
    at: datetime
    payload: dict[str, Any]


@router.get("/performance-goals/{goal_id}/history", response_model=Page[StepOut])
async def history(goal_id: str, principal: CurrentPrincipal, runtime: RuntimeDep,
                  asked: PagingDep) -> Page[StepOut]:
    """Every step of a goal (set, reported, reviewed, resubmitted), each with its actor. In the order they were
    taken (by version), not newest first: a history reads from its beginning. The cursor is the last step's
    version."""
    async with runtime.engine.connect() as conn:
        await goal_row(conn, principal, goal_id)
        events = await runtime.store.read_stream(conn, f"goal-{goal_id}")
    steps, next_cursor = sorted_page(events, lambda e: (e.version, str(e.event_id)), asked, parse=cursor_integer)
    return Page[StepOut](items=[StepOut(version=e.version, event_type=e.event_type, actor=e.metadata.actor,
                                        at=e.occurred_at.astimezone(SHANGHAI), payload=e.payload) for e in steps],
                         next_cursor=next_cursor)


# Registered last in this router, after /performance-goals/summary; app.py includes the export's router before
# this one, for /performance-goals/export.
@router.get("/performance-goals/{goal_id}", response_model=GoalOut)
async def get_goal(goal_id: str, principal: CurrentPrincipal, runtime: RuntimeDep) -> GoalOut:
    """A goal with its indicators and every execution report with the deviation of each indicator."""
    async with runtime.engine.connect() as conn:
        return await goal_detail(conn, principal, goal_id)
