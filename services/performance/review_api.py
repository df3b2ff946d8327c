"""The budget division's review of what a goal's owner filed (第十一条(五)): the goals, an execution report or the
self-evaluation, accepted or returned with reasons and a date to rectify by."""

from datetime import date
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from backbone.errors import InvalidInput, fault
from backbone.identity import CurrentPrincipal
from backbone.service import RuntimeDep
from contracts.performance import FilingReviewed
from services.performance.api import GoalOut, append_step, event_scope, goal_detail, returns_so_far
from services.performance.domain import check_review, return_id_of
from services.performance.projections import filing_target, reports

router = APIRouter(prefix="/api/v1", tags=["performance"])


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
            fault("rectify_by", "required when returning")])
    async with runtime.engine.begin() as conn:
        current = await goal_detail(conn, principal, goal_id, lock=True)
        table, where = filing_target(body.filing, goal_id)
        status = (await conn.execute(select(table.c.status).where(*where))).scalar()
        if status is None and table is reports:
            raise InvalidInput("no such report of this goal", errors=[
                fault("filing", "goals, evaluation or a report_id of this goal")])
        check_review(status, body.decision)
        return_id = None
        if body.decision == "returned":
            return_id = return_id_of(goal_id, body.filing, await returns_so_far(conn, runtime, goal_id, body.filing) + 1)
        event = FilingReviewed(**event_scope(current), filing=body.filing, return_id=return_id, decision=body.decision,
                               reasons=body.reasons, rectify_by=body.rectify_by)
        await append_step(conn, runtime, principal, goal_id, event)
        return await goal_detail(conn, principal, goal_id)
