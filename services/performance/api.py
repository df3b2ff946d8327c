"""Performance goals API (绩效目标): set goals for an indicator, report execution, and the budget division's review."""

from datetime import date, datetime
from functools import partial
from decimal import Decimal
from typing import Any, Literal
from uuid import NAMESPACE_URL, uuid5

import xlsxwriter
from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.clock import clock
from backbone.errors import Forbidden, InvalidInput, NotFound
from backbone.idempotency import REPLAYED
from backbone.identity import CurrentPrincipal, ExportingPrincipal, Principal
from backbone.pages import Page, PagingDep, sorted_page
from backbone.paging import XLSX, cursor_integer, newest_first, xlsx_export
from backbone.service import Runtime, RuntimeDep
from backbone.workdays import SHANGHAI, period_end, year_progress
from contracts.performance import (FilingReviewed, GoalsSet, IndicatorOutcome, IndicatorScore, ProgressReported,
                                   SelfEvaluated)
from contracts.values import DIVISIONS, ORG_UNITS, FiscalYear
from services.performance.domain import (IndicatorTarget, Outcome, check_filing, check_review, check_weights, compare,
                                         parse_actual, score)
from services.performance.projections import evaluations, filing_target, goals, indicators, reports

router = APIRouter(prefix="/api/v1", tags=["performance"])
SEVERE_SHARE = Decimal("0.20")  # a deviation beyond a fifth of the target is 严重偏离


class GoalIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    indicator_id: str = Field(description="The budget indicator the goals are set for.")
    goal: str = Field(min_length=1, max_length=4000, description="绩效目标 in words")
    indicators: list[IndicatorTarget] = Field(min_length=1, max_length=100, description="绩效指标")


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


def goal_id_for(indicator_id: str) -> str:
    """One goal per indicator: setting goals again revises them."""
    return str(uuid5(NAMESPACE_URL, f"fundwatch:goal:{indicator_id}"))


async def _indicator(runtime: Runtime, principal: Principal, indicator_id: str) -> Any:
    async with runtime.engine.connect() as conn:
        row = (await conn.execute(select(indicators).where(indicators.c.indicator_id == indicator_id))).first()
    if row is None or row.fiscal_year is None:
        raise InvalidInput(f"indicator {indicator_id} is not known to performance (yet)",
                           errors=[{"field": "indicator_id", "message": "unknown indicator"}])
    if not principal.can_see(org_unit=row.org_unit, owner_division=row.owner_division):
        raise Forbidden("the indicator is outside your org unit or division")
    return row


@router.post("/performance-goals", status_code=201, response_model=GoalOut)
async def set_goals(body: GoalIn, principal: CurrentPrincipal, runtime: RuntimeDep) -> GoalOut:
    """Set the goals and indicators of a budget indicator; setting them again after a return resubmits them."""
    ind = await _indicator(runtime, principal, body.indicator_id)
    faults = check_weights(body.indicators)
    if faults:
        raise InvalidInput("the indicators do not make a goal", errors=faults)
    goal_id = goal_id_for(body.indicator_id)
    async with runtime.engine.begin() as conn:
        current = (await conn.execute(select(goals.c.status).where(goals.c.goal_id == goal_id)
                                      .with_for_update())).scalar()
        resubmission = check_filing(current)
        event = GoalsSet(goal_id=goal_id, indicator_id=ind.indicator_id, fiscal_year=ind.fiscal_year,
                         org_unit=ind.org_unit, owner_division=ind.owner_division, goal=body.goal,
                         indicators=[i.model_dump(mode="json") for i in body.indicators], resubmission=resubmission)
        await _append(conn, runtime, principal, goal_id, event)
        return await _goal(conn, principal, goal_id)


@router.get("/performance-goals", response_model=Page[GoalOut])
async def list_goals(principal: CurrentPrincipal, runtime: RuntimeDep, asked: PagingDep,
                     fiscal_year: FiscalYear | None = None, org_unit: str | None = None,
                     owner_division: str | None = None, status: str | None = None) -> Page[GoalOut]:
    """Goals within the caller's scope, newest first by (set_at, goal_id); each goal's reports are in its detail."""
    q = select(goals).where(*_visible(principal))
    for column, value in ((goals.c.fiscal_year, fiscal_year), (goals.c.org_unit, org_unit),
                          (goals.c.owner_division, owner_division), (goals.c.status, status)):
        if value is not None:
            q = q.where(column == value)
    async with runtime.engine.connect() as conn:
        rows, next_cursor = await newest_first(conn, q, goals.c.set_at, goals.c.goal_id, asked.cursor, asked.limit)
    return Page[GoalOut](items=[_out(r, []) for r in rows], next_cursor=next_cursor)


def _visible(principal: Principal) -> list[Any]:
    return principal.where_visible(goals.c.org_unit, goals.c.owner_division)


async def _goal_row(conn: AsyncConnection, principal: Principal, goal_id: str, *, lock: bool = False) -> Any:
    """A goal's row within the caller's scope; a write locks it, so that the steps of one goal are taken one at a
    time, each on what the one before left."""
    q = select(goals).where(goals.c.goal_id == goal_id, *_visible(principal))
    row = (await conn.execute(q.with_for_update() if lock else q)).first()
    if row is None:
        raise NotFound(f"goal {goal_id} does not exist")
    return row


async def _goal(conn: AsyncConnection, principal: Principal, goal_id: str, *, lock: bool = False) -> GoalOut:
    row = await _goal_row(conn, principal, goal_id, lock=lock)
    filed = (await conn.execute(select(reports).where(reports.c.goal_id == goal_id)
                                .order_by(reports.c.period_end))).all()
    money = (await conn.execute(select(indicators).where(indicators.c.indicator_id == row.indicator_id))).first()
    evaluated = (await conn.execute(select(evaluations).where(evaluations.c.goal_id == goal_id))).first()
    out = _out(row, [_plain(r) for r in filed])
    out.evaluation = _plain(evaluated) if evaluated else None
    today = clock().today()
    out.money_progress = _money_progress(money)
    out.time_progress = year_progress(today) if today.year == row.fiscal_year else None
    return out


def _plain(row: Any) -> dict[str, Any]:
    return {k: (format(v, "f") if isinstance(v, Decimal) else v) for k, v in row._mapping.items()}


async def _append(conn: Any, runtime: Runtime, principal: Principal, goal_id: str, event: Any) -> None:
    """Add a step at the head of a goal's stream: the caller holds the goal's row (`_goal(lock=True)`), or the goal
    is new and a first step set beside it is a 409."""
    version = await runtime.store.version(conn, f"goal-{goal_id}")
    await runtime.store.append(conn, stream_id=f"goal-{goal_id}", stream_type="goal", expected_version=version,
                               events=[event],
                               meta=runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit))


def _scope(goal: GoalOut) -> dict[str, Any]:
    """The fields every goal event carries to route it."""
    return {"goal_id": goal.id, "indicator_id": goal.indicator_id, "fiscal_year": goal.fiscal_year,
            "org_unit": goal.org_unit, "owner_division": goal.owner_division}


def _money_progress(money: Any) -> Decimal | None:
    return (((money.paid - money.refunded) / money.amount).quantize(Decimal("0.0001"))
            if money is not None and money.amount else None)


def _out(row: Any, filed: list[dict[str, Any]]) -> GoalOut:
    m = row._mapping
    return GoalOut(id=m["goal_id"], reports=filed, **{k: m[k] for k in GoalOut.model_fields if k in m})


class ActualIn(BaseModel):
    name: str = Field(description="The 三级指标 it reports on.")
    actual: str | int = Field(description="A number as text (exact), or for a qualitative indicator: "
                                          "achieved, partly or not_achieved.")


class ProgressIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    period: str = Field(description="2026-06 (month), 2026-Q2 (quarter) or 2026-H1 (the mid-year 双监控 point)")
    actuals: list[ActualIn] = Field(min_length=1, max_length=100)
    explanation: str = Field("", max_length=4000, description="偏差原因")
    measures: str = Field("", max_length=4000, description="纠偏措施")


def _measure(current: GoalOut, actuals: list[ActualIn]) -> list[tuple[IndicatorTarget, Outcome, ActualIn]]:
    """Each actual against its indicator; every fault reported at once, by the actual's index."""
    targets = {i["name"]: IndicatorTarget(**i) for i in current.indicators}
    measured, faults, seen = [], [], set()
    for n, item in enumerate(actuals):
        target = targets.get(item.name)
        if target is None:
            faults.append({"field": f"actuals[{n}].name", "message": "not an indicator of this goal"})
            continue
        if item.name in seen:
            # Counted twice, an indicator would earn its weight twice in the self-evaluation.
            faults.append({"field": f"actuals[{n}].name", "message": "the same indicator twice"})
            continue
        seen.add(item.name)
        try:
            measured.append((target, compare(target, parse_actual(target, item.actual), SEVERE_SHARE), item))
        except (ValueError, ArithmeticError, ValidationError) as exc:
            faults.append({"field": f"actuals[{n}].actual", "message": str(exc).splitlines()[0]})
    if faults:
        raise InvalidInput("the actuals have faults", errors=faults)
    return measured


def fiscal_period_end(period: str, fiscal_year: int) -> date:
    """The last day of a reporting period of the goal's fiscal year; ValueError naming the fault."""
    end = period_end(period)
    if end.year != fiscal_year:
        raise ValueError(f"the goal is for {fiscal_year}")
    return end


@router.post("/performance-goals/{goal_id}/progress", status_code=201, response_model=GoalOut)
async def report_progress(goal_id: str, body: ProgressIn, principal: CurrentPrincipal, runtime: RuntimeDep,
                          response: Response) -> GoalOut:
    """File an execution report: the deviation of each indicator is measured, next to time and money progress.
    The same report again while it waits for review files nothing new."""
    report_id = f"{goal_id}-{body.period}"
    async with runtime.engine.begin() as conn:
        current = await _goal(conn, principal, goal_id, lock=True)
        try:
            end = fiscal_period_end(body.period, current.fiscal_year)
        except ValueError as exc:
            raise InvalidInput(str(exc), errors=[{"field": "period", "message": str(exc)}]) from None
        measured = _measure(current, body.actuals)
        outcomes = [IndicatorOutcome(name=item.name, actual=str(item.actual), met=o.met, deviation=o.deviation,
                                     severe=o.severe) for _, o, item in measured]
        stored = (await conn.execute(select(reports).where(reports.c.report_id == report_id))).first()
        if stored is not None and stored.status == "filed" and (stored.outcomes, stored.explanation, stored.measures) \
                == ([o.model_dump(mode="json") for o in outcomes], body.explanation, body.measures):
            # A retry: a second event would count the report's deviations twice in the alert's occurrences.
            response.headers[REPLAYED] = "true"
            return current
        status = stored.status if stored is not None else None
        event = ProgressReported(
            **_scope(current), report_id=report_id,
            period=body.period, period_end=end, outcomes=outcomes, severe_count=sum(o.severe for o in outcomes),
            explanation=body.explanation, measures=body.measures, time_progress=year_progress(end),
            money_progress=current.money_progress, resubmission=check_filing(status))
        await _append(conn, runtime, principal, goal_id, event)
        return await _goal(conn, principal, goal_id)


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    filing: str = Field("goals", description="goals, evaluation, or the report_id of an execution report")
    decision: Literal["accepted", "returned"]
    reasons: str = Field(min_length=1, max_length=4000)
    rectify_by: date | None = Field(None, description="限期整改: required when returning")


@router.post("/performance-goals/{goal_id}/reviews", response_model=GoalOut)
async def review(goal_id: str, body: ReviewIn, principal: CurrentPrincipal, runtime: RuntimeDep) -> GoalOut:
    """The budget division accepts a filing or returns it with reasons and a date (第十一条(五))."""
    if body.decision == "returned" and body.rectify_by is None:
        raise InvalidInput("a return sets the date to rectify by", errors=[
            {"field": "rectify_by", "message": "required when returning"}])
    async with runtime.engine.begin() as conn:
        current = await _goal(conn, principal, goal_id, lock=True)
        table, where = filing_target(body.filing, goal_id)
        status = (await conn.execute(select(table.c.status).where(*where))).scalar()
        if status is None and table is reports:
            raise InvalidInput("no such report of this goal", errors=[
                {"field": "filing", "message": "goals, evaluation or a report_id of this goal"}])
        check_review(status, body.decision)
        event = FilingReviewed(**_scope(current), filing=body.filing, decision=body.decision, reasons=body.reasons,
                               rectify_by=body.rectify_by)
        await _append(conn, runtime, principal, goal_id, event)
        return await _goal(conn, principal, goal_id)


class EvaluationIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    actuals: list[ActualIn] = Field(min_length=1, max_length=100,
                                    description="The year's actual value of every indicator.")
    conclusion: str = Field(min_length=1, max_length=4000, description="自评结论")


@router.post("/performance-goals/{goal_id}/evaluation", status_code=201, response_model=GoalOut)
async def evaluate(goal_id: str, body: EvaluationIn, principal: CurrentPrincipal, runtime: RuntimeDep) -> GoalOut:
    """The year-end self-evaluation: each indicator scored by its weight, a total out of 100 and a grade."""
    async with runtime.engine.begin() as conn:
        current = await _goal(conn, principal, goal_id, lock=True)
        measured = _measure(current, body.actuals)
        missing = sorted({i["name"] for i in current.indicators} - {item.name for _, _, item in measured})
        if missing:
            raise InvalidInput("a self-evaluation covers every indicator", errors=[
                {"field": "actuals", "message": f"missing: {'、'.join(missing)}"}])
        total, grade = score([t for t, _, _ in measured], [o for _, o, _ in measured])
        status = (await conn.execute(select(evaluations.c.status).where(evaluations.c.goal_id == goal_id))).scalar()
        resubmission = check_filing(status)
        event = SelfEvaluated(
            **_scope(current), total=total, grade=grade,
            conclusion=body.conclusion, resubmission=resubmission,
            scores=[IndicatorScore(name=item.name, actual=str(item.actual), met=o.met, deviation=o.deviation,
                                   severe=o.severe, weight=t.weight, score=(t.weight * o.achievement).quantize(
                                       Decimal("0.01"))) for t, o, item in measured])
        await _append(conn, runtime, principal, goal_id, event)
        return await _goal(conn, principal, goal_id)


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
        await _goal_row(conn, principal, goal_id)
        events = await runtime.store.read_stream(conn, f"goal-{goal_id}")
    steps, next_cursor = sorted_page(events, lambda e: (e.version, str(e.event_id)), asked, parse=cursor_integer)
    return Page[StepOut](items=[StepOut(version=e.version, event_type=e.event_type, actor=e.metadata.actor,
                                        at=e.occurred_at.astimezone(SHANGHAI), payload=e.payload) for e in steps],
                         next_cursor=next_cursor)


COMPARISON_SIGNS = {"gte": "≥", "lte": "≤", "eq": "=", "range": "区间", "qualitative": "定性"}
STATUS_NAMES = {"filed": "待审核", "accepted": "审核通过", "returned": "退回整改"}
GOAL_HEADERS = ["预算指标编号", "区划", "主管处室", "绩效目标", "一级指标", "二级指标", "三级指标", "指标值", "计量单位", "权重",
                "审核状态"]
REPORT_HEADERS = ["预算指标编号", "区划", "主管处室", "报告期", "三级指标", "实际值", "是否达成", "偏差率", "严重偏离", "支出进度",
                  "序时进度", "偏差原因", "纠偏措施", "审核状态"]


def _target_text(i: dict[str, Any]) -> str:
    if i["comparison"] == "range":
        return f"{i['target_low']}–{i['target_high']}"
    if i["comparison"] == "qualitative":
        return i["target_text"]
    return f"{COMPARISON_SIGNS[i['comparison']]}{i['target']}"


@router.get("/performance-goals/export", response_class=Response,
            responses={200: {"content": {XLSX: {}}, "description": "Goals and execution within the caller's scope."}})
async def export(principal: ExportingPrincipal, runtime: RuntimeDep, fiscal_year: FiscalYear, org_unit: str | None = None,
                 owner_division: str | None = None) -> Response:
    """Goals and execution reports as XLSX with Chinese headers, per division or per district by filter; only as a
    co-signed export."""
    q = (select(goals).where(goals.c.fiscal_year == fiscal_year, *_visible(principal))
         .order_by(goals.c.org_unit, goals.c.owner_division))
    if org_unit:
        q = q.where(goals.c.org_unit == org_unit)
    if owner_division:
        q = q.where(goals.c.owner_division == owner_division)
    async with runtime.engine.connect() as conn:
        rows = (await conn.execute(q)).all()
        filed = (await conn.execute(select(reports).where(reports.c.goal_id.in_([r.goal_id for r in rows]))
                                    .order_by(reports.c.period_end))).all() if rows else []
    return await xlsx_export(principal, partial(_write_goals, rows=rows, filed=filed), f"performance-{fiscal_year}",
                             f"绩效目标与执行-{fiscal_year}")


def _write_goals(book: xlsxwriter.Workbook, rows: list[Any], filed: list[Any]) -> None:
    by_goal = {r.goal_id: r for r in rows}
    bold = book.add_format({"bold": True})
    sheet = book.add_worksheet("绩效目标")
    sheet.write_row(0, 0, GOAL_HEADERS, bold)
    line = 1
    for r in rows:
        for i in r.indicators:
            sheet.write_row(line, 0, [r.indicator_id, ORG_UNITS.get(r.org_unit, r.org_unit),
                                      DIVISIONS.get(r.owner_division, r.owner_division), r.goal, i["level1"],
                                      i["level2"], i["name"], _target_text(i), i.get("unit", ""), i["weight"],
                                      STATUS_NAMES.get(r.status, r.status)])
            line += 1
    sheet = book.add_worksheet("执行情况")
    sheet.write_row(0, 0, REPORT_HEADERS, bold)
    line = 1
    for report in filed:
        goal = by_goal[report.goal_id]
        for o in report.outcomes:
            sheet.write_row(line, 0, [
                goal.indicator_id, ORG_UNITS.get(goal.org_unit, goal.org_unit),
                DIVISIONS.get(goal.owner_division, goal.owner_division), report.period, o["name"], o["actual"],
                "是" if o["met"] else "否", o["deviation"] or "", "是" if o["severe"] else "否",
                format(report.money_progress, "f") if report.money_progress is not None else "",
                format(report.time_progress, "f"), report.explanation, report.measures,
                STATUS_NAMES.get(report.status, report.status)])
            line += 1


# Registered last: /performance-goals/summary and the other fixed paths come first.
@router.get("/performance-goals/{goal_id}", response_model=GoalOut)
async def get_goal(goal_id: str, principal: CurrentPrincipal, runtime: RuntimeDep) -> GoalOut:
    """A goal with its indicators and every execution report with the deviation of each indicator."""
    async with runtime.engine.connect() as conn:
        return await _goal(conn, principal, goal_id)
