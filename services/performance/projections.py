"""The performance read models: indicators learned from the ledger, goals and execution reports."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Date, DateTime, Integer, MetaData, Numeric, Table, Text, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.envelope import EventEnvelope
from contracts.performance import FilingReviewed, GoalsSet, ProgressReported, SelfEvaluated

metadata = MetaData(schema="performance")

indicators = Table(
    "indicators", metadata,
    Column("indicator_id", Text, primary_key=True), Column("fiscal_year", Integer), Column("org_unit", Text),
    Column("owner_division", Text), Column("doc_no", Text), Column("fund_name", Text),
    Column("amount", Numeric(18, 2)), Column("paid", Numeric(18, 2)), Column("refunded", Numeric(18, 2)),
)

goals = Table(
    "goals", metadata,
    Column("goal_id", Text, primary_key=True), Column("indicator_id", Text, unique=True),
    Column("fiscal_year", Integer),
    Column("org_unit", Text), Column("owner_division", Text), Column("goal", Text), Column("indicators", JSONB),
    Column("status", Text), Column("review_reasons", Text), Column("rectify_by", Date),
    Column("set_at", DateTime(timezone=True)), Column("updated_at", DateTime(timezone=True)),
)

reports = Table(
    "reports", metadata,
    Column("report_id", Text, primary_key=True), Column("goal_id", Text), Column("period", Text),
    Column("period_end", Date), Column("outcomes", JSONB), Column("severe_count", Integer),
    Column("explanation", Text), Column("measures", Text), Column("time_progress", Numeric(6, 4)),
    Column("money_progress", Numeric(8, 4)), Column("status", Text), Column("review_reasons", Text),
    Column("rectify_by", Date), Column("filed_at", DateTime(timezone=True)),
)


evaluations = Table(
    "evaluations", metadata,
    Column("goal_id", Text, primary_key=True), Column("scores", JSONB), Column("total", Numeric(6, 2)),
    Column("grade", Text), Column("conclusion", Text), Column("status", Text), Column("review_reasons", Text),
    Column("rectify_by", Date), Column("filed_at", DateTime(timezone=True)),
)


def filing_target(filing: str, goal_id: str) -> tuple[Table, list[Any]]:
    """Where a filing's review status lives: `goals`, `evaluation`, or an execution report by its report_id."""
    if filing == "goals":
        return goals, [goals.c.goal_id == goal_id]
    if filing == "evaluation":
        return evaluations, [evaluations.c.goal_id == goal_id]
    return reports, [reports.c.report_id == filing, reports.c.goal_id == goal_id]


async def project_goals(conn: AsyncConnection, envelopes: Sequence[EventEnvelope]) -> None:
    """Inline projection: each goal and report as it stands, with its review status."""
    for env in envelopes:
        if env.event_type == GoalsSet.event_type:
            e = GoalsSet.model_validate(env.payload)
            row = {"goal_id": e.goal_id, "indicator_id": e.indicator_id, "fiscal_year": e.fiscal_year,
                   "org_unit": e.org_unit, "owner_division": e.owner_division, "goal": e.goal,
                   "indicators": env.payload["indicators"], "status": "filed", "review_reasons": None,
                   "rectify_by": None, "set_at": env.occurred_at, "updated_at": env.occurred_at}
            stmt = insert(goals).values(row)
            await conn.execute(stmt.on_conflict_do_update(index_elements=[goals.c.goal_id], set_={
                k: stmt.excluded[k] for k in ("org_unit", "owner_division", "goal", "indicators", "status",
                                              "review_reasons", "rectify_by", "updated_at")}))
        elif env.event_type == ProgressReported.event_type:
            e = ProgressReported.model_validate(env.payload)
            row = {"report_id": e.report_id, "goal_id": e.goal_id, "period": e.period, "period_end": e.period_end,
                   "outcomes": env.payload["outcomes"], "severe_count": e.severe_count, "explanation": e.explanation,
                   "measures": e.measures, "time_progress": e.time_progress, "money_progress": e.money_progress,
                   "status": "filed", "review_reasons": None, "rectify_by": None, "filed_at": env.occurred_at}
            stmt = insert(reports).values(row)
            await conn.execute(stmt.on_conflict_do_update(index_elements=[reports.c.report_id], set_={
                k: stmt.excluded[k] for k in row if k not in ("report_id", "goal_id")}))
        elif env.event_type == SelfEvaluated.event_type:
            e = SelfEvaluated.model_validate(env.payload)
            row = {"goal_id": e.goal_id, "scores": env.payload["scores"], "total": e.total, "grade": e.grade,
                   "conclusion": e.conclusion, "status": "filed", "review_reasons": None, "rectify_by": None,
                   "filed_at": env.occurred_at}
            stmt = insert(evaluations).values(row)
            await conn.execute(stmt.on_conflict_do_update(index_elements=[evaluations.c.goal_id], set_={
                k: stmt.excluded[k] for k in row if k != "goal_id"}))
        elif env.event_type == FilingReviewed.event_type:
            e = FilingReviewed.model_validate(env.payload)
            table, where = filing_target(e.filing, e.goal_id)
            await conn.execute(update(table).where(*where).values(
                status=e.decision, review_reasons=e.reasons, rectify_by=e.rectify_by))
