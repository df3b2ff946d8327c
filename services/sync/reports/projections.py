"""The monthly reports' read model (月报): each report as it stands and the steps it took; kept inline from sync's
own events, in the transaction that appends them."""

from collections.abc import Sequence

from sqlalchemy import Column, DateTime, Index, Integer, Table, Text, column, insert, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.envelope import EventEnvelope
from contracts.sync import MonthlyReportDrafted, MonthlyReportStepped
from services.sync.projections import metadata

monthly_reports = Table(
    "monthly_reports", metadata,
    Column("report_id", Text, primary_key=True), Column("kind", Text, nullable=False),
    Column("month", Text, nullable=False), Column("division", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("corrects", Text), Column("status", Text, nullable=False), Column("figures", JSONB, nullable=False),
    Column("divisions", JSONB, nullable=False), Column("analysis", Text), Column("prepared_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("supervision_opinion", Text), Column("supervised_by", Text), Column("cosigner", Text),
    Column("cosigned_at", DateTime(timezone=True)), Column("cosignature_opinion", Text), Column("message_id", Text),
    Column("province_reason", Text), Column("consolidated_into", Text),
    # One report per kind, month and division in each version; one correction of a report.
    Index("monthly_reports_version", "kind", "month", "division", "version", unique=True),
    Index("monthly_reports_corrects", "corrects", unique=True, postgresql_where=column("corrects").isnot(None)),
)
monthly_report_steps = Table(
    "monthly_report_steps", metadata,
    Column("report_id", Text, primary_key=True), Column("seq", Integer, primary_key=True),
    Column("step", Text, nullable=False), Column("from_status", Text), Column("to_status", Text, nullable=False),
    Column("actor", Text, nullable=False), Column("at", DateTime(timezone=True), nullable=False),
    Column("opinion", Text),
)
# What each step writes on the report besides its status.
_STEP_COLUMNS = {
    "edit": lambda e: {"analysis": e.analysis},
    "consolidate": lambda e: {"consolidated_into": e.consolidated_into},
    "approve_suspicious": lambda e: {"supervision_opinion": e.opinion, "supervised_by": e.actor},
    "return_suspicious": lambda e: {"supervision_opinion": e.opinion, "supervised_by": e.actor},
    "cosign": lambda e: {"cosigner": e.actor, "cosigned_at": e.at, "cosignature_opinion": e.opinion},
    "refuse_cosignature": lambda e: {"cosigner": e.actor, "cosigned_at": e.at, "cosignature_opinion": e.opinion},
    "send": lambda e: {"message_id": e.message_id},
    "return": lambda e: {"province_reason": e.opinion},
}


async def project_monthly_reports(conn: AsyncConnection, envelopes: Sequence[EventEnvelope]) -> None:
    """Inline projection: a report made, and each step it takes (its history)."""
    for env in envelopes:
        if env.event_type == MonthlyReportDrafted.event_type:
            e = MonthlyReportDrafted.model_validate(env.payload)
            await conn.execute(insert(monthly_reports).values(
                report_id=e.report_id, kind=e.kind, month=e.month, division=e.division, version=e.version,
                corrects=e.corrects, status=e.status, figures=env.payload["figures"],
                divisions=env.payload["divisions"], analysis=e.analysis, prepared_by=e.prepared_by, created_at=e.at,
                updated_at=e.at))
            await conn.execute(insert(monthly_report_steps).values(
                report_id=e.report_id, seq=env.version, step="draft" if e.status == "draft" else "consolidate",
                from_status=None, to_status=e.status, actor=e.prepared_by, at=e.at,
                opinion=f"corrects {e.corrects}" if e.corrects else None))
        elif env.event_type == MonthlyReportStepped.event_type:
            e = MonthlyReportStepped.model_validate(env.payload)
            extra = _STEP_COLUMNS.get(e.step, lambda _: {})(e)
            await conn.execute(update(monthly_reports).where(monthly_reports.c.report_id == e.report_id)
                               .values(status=e.to_status, updated_at=e.at, **extra))
            await conn.execute(insert(monthly_report_steps).values(
                report_id=e.report_id, seq=env.version, step=e.step, from_status=e.from_status,
                to_status=e.to_status, actor=e.actor, at=e.at, opinion=e.opinion))
