"""Filing a goal's papers with the budget division: the goals and indicators, execution reports (each
indicator's deviation next to time and money progress) and the year-end self-evaluation. The measuring
itself is in domain.py; the review of what is filed in review_api.py."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from backbone.errors import Forbidden, InvalidInput, fault
from backbone.idempotency import REPLAYED
from backbone.identity import IDENTITY_HEADER, CurrentPrincipal, Principal
from backbone.service import Runtime, RuntimeDep
from backbone.workdays import year_progress
from contracts.performance import GoalsSet, IndicatorOutcome, IndicatorScore, ProgressReported, SelfEvaluated
from services.performance.api import GoalOut, answered_return, append_step, event_scope, goal_detail
from services.performance.domain import (IndicatorTarget, check_filing, check_weights, fiscal_period_end, goal_id_for,
                                         measure, score, unmeasured)
from services.performance.ledger_lookup import ask_ledger
from services.performance.projections import evaluations, goals, indicators, reports

router = APIRouter(prefix="/api/v1", tags=["performance"])


class GoalIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    indicator_id: str = Field(description="The budget indicator the goals are set for.")
    goal: str = Field(min_length=1, max_length=4000, description="绩效目标 in words")
    indicators: list[IndicatorTarget] = Field(min_length=1, max_length=100, description="绩效指标")


async def _indicator(runtime: Runtime, principal: Principal, indicator_id: str, identity: str | None) -> Any:
    """The indicator from performance's read model, or, not there yet, from the ledger: a goal set right after its
    indicator was registered is not refused for Kafka being behind."""
    async with runtime.engine.connect() as conn:
        row = (await conn.execute(select(indicators).where(indicators.c.indicator_id == indicator_id))).first()
    known: Any = row if row is not None and row.fiscal_year is not None else None
    if known is None:
        known = await ask_ledger(runtime.settings, identity, indicator_id)
    if known is None:
        raise InvalidInput(f"indicator {indicator_id} is not known to performance nor to the ledger",
                           errors=[fault("indicator_id", "unknown indicator")])
    if not principal.can_see(org_unit=known.org_unit, owner_division=known.owner_division):
        raise Forbidden("the indicator is outside your org unit or division")
    return known


@router.post("/performance-goals", status_code=201, response_model=GoalOut)
async def set_goals(body: GoalIn, principal: CurrentPrincipal, runtime: RuntimeDep, request: Request) -> GoalOut:
    """Set the goals and indicators of a budget indicator; setting them again after a return resubmits them."""
    ind = await _indicator(runtime, principal, body.indicator_id, request.headers.get(IDENTITY_HEADER))
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
                         indicators=[i.model_dump(mode="json") for i in body.indicators], resubmission=resubmission,
                         answers_return=await answered_return(conn, runtime, goal_id, "goals", resubmission))
        await append_step(conn, runtime, principal, goal_id, event)
        return await goal_detail(conn, principal, goal_id)


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


@router.post("/performance-goals/{goal_id}/progress", status_code=201, response_model=GoalOut)
async def report_progress(goal_id: str, body: ProgressIn, principal: CurrentPrincipal, runtime: RuntimeDep,
                          response: Response) -> GoalOut:
    """File an execution report: the deviation of each indicator is measured, next to time and money progress.
    The same report again while it waits for review files nothing new."""
    report_id = f"{goal_id}-{body.period}"
    async with runtime.engine.begin() as conn:
        current = await goal_detail(conn, principal, goal_id, lock=True)
        try:
            end = fiscal_period_end(body.period, current.fiscal_year)
        except ValueError as exc:
            raise InvalidInput(str(exc), errors=[fault("period", str(exc))]) from None
        measured = measure(current.indicators, [(a.name, a.actual) for a in body.actuals])
        outcomes = [IndicatorOutcome(name=m.target.name, actual=m.actual, met=m.outcome.met,
                                     deviation=m.outcome.deviation, severe=m.outcome.severe) for m in measured]
        stored = (await conn.execute(select(reports).where(reports.c.report_id == report_id))).first()
        if stored is not None and stored.status == "filed" and (stored.outcomes, stored.explanation, stored.measures) \
                == ([o.model_dump(mode="json") for o in outcomes], body.explanation, body.measures):
            # A retry: a second event would count the report's deviations twice in the alert's occurrences.
            response.headers[REPLAYED] = "true"
            return current
        status = stored.status if stored is not None else None
        resubmission = check_filing(status)
        event = ProgressReported(
            **event_scope(current), report_id=report_id,
            answers_return=await answered_return(conn, runtime, goal_id, report_id, resubmission),
            period=body.period, period_end=end, outcomes=outcomes, severe_count=sum(o.severe for o in outcomes),
            explanation=body.explanation, measures=body.measures, time_progress=year_progress(end),
            money_progress=current.money_progress, resubmission=resubmission)
        await append_step(conn, runtime, principal, goal_id, event)
        return await goal_detail(conn, principal, goal_id)


class EvaluationIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    actuals: list[ActualIn] = Field(min_length=1, max_length=100,
                                    description="The year's actual value of every indicator.")
    conclusion: str = Field(min_length=1, max_length=4000, description="自评结论")


@router.post("/performance-goals/{goal_id}/evaluation", status_code=201, response_model=GoalOut)
async def evaluate(goal_id: str, body: EvaluationIn, principal: CurrentPrincipal, runtime: RuntimeDep) -> GoalOut:
    """The year-end self-evaluation: each indicator scored by its weight, a total out of 100 and a grade."""
    async with runtime.engine.begin() as conn:
        current = await goal_detail(conn, principal, goal_id, lock=True)
        measured = measure(current.indicators, [(a.name, a.actual) for a in body.actuals])
        missing = unmeasured(current.indicators, measured)
        if missing:
            raise InvalidInput("a self-evaluation covers every indicator", errors=[
                fault("actuals", f"missing: {'、'.join(missing)}")])
        total, grade = score([m.target for m in measured], [m.outcome for m in measured])
        status = (await conn.execute(select(evaluations.c.status).where(evaluations.c.goal_id == goal_id))).scalar()
        resubmission = check_filing(status)
        event = SelfEvaluated(
            **event_scope(current), total=total, grade=grade,
            answers_return=await answered_return(conn, runtime, goal_id, "evaluation", resubmission),
            conclusion=body.conclusion, resubmission=resubmission,
            scores=[IndicatorScore(name=m.target.name, actual=m.actual, met=m.outcome.met,
                                   deviation=m.outcome.deviation, severe=m.outcome.severe, weight=m.target.weight,
                                   score=m.points) for m in measured])
        await append_step(conn, runtime, principal, goal_id, event)
        return await goal_detail(conn, principal, goal_id)
