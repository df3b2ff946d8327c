"""A monthly report as its routes read and move it: the answer's shape, who sees which report, and the one way a
report takes a step (its event, in the caller's transaction, through the event store)."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import false, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.clock import clock
from backbone.errors import NotFound
from backbone.eventstore import EventStore
from backbone.identity import Principal
from backbone.months import Month
from contracts.province import DivisionPart, MonthFigures
from contracts.sync import MonthlyReportDrafted, MonthlyReportStepped
from services.sync.reports.lifecycle import ReportKind, ReportStatus, ReportStep, after
from services.sync.reports.projections import monthly_report_steps, monthly_reports

SYSTEM = "system:sync"


class StepOut(BaseModel):
    step: str
    from_status: str | None
    to_status: str
    actor: str
    at: datetime
    opinion: str | None


class ReportOut(BaseModel):
    report_id: str
    kind: ReportKind
    month: str
    division: str = Field(description="The division that prepares it: its own, or treasury (国库处) for the city's.")
    version: int
    corrects: str | None = Field(description="The report this version corrects.")
    status: ReportStatus
    prepared_by: str
    analysis: str | None = Field(description="问题及建议")
    figures: MonthFigures = Field(description="Sections 一 and 三: money, alerts, disposals, performance, 疑点.")
    divisions: list[DivisionPart] = Field(description="A city report's division reports (二).")
    supervision_opinion: str | None
    supervised_by: str | None
    cosigner: str | None
    cosigned_at: datetime | None
    cosignature_opinion: str | None
    message_id: str | None = Field(description="The message that carries it to the province.")
    province_reason: str | None = Field(description="Why the province returned it.")
    consolidated_into: str | None = Field(description="The city report that took this division report in.")
    created_at: datetime
    updated_at: datetime
    history: list[StepOut] | None = Field(None, description="Every step with its actor (GET of one report only).")


def report_id_for(kind: ReportKind, month: str, division: str, version: int) -> str:
    """Readable and the same for the same report: mr-2026-11-agriculture-v1, mr-2026-11-city-v2."""
    return f"mr-{month}-{division if kind is ReportKind.DIVISION else 'city'}-v{version}"


def visible(principal: Principal) -> list[Any]:
    """The bureau's citywide roles see every report; a division its own division's reports."""
    if principal.citywide:
        return []
    if "division" in principal.roles and principal.division:
        return [monthly_reports.c.kind == ReportKind.DIVISION, monthly_reports.c.division == principal.division]
    return [false()]


async def load(conn: AsyncConnection, report_id: str, principal: Principal | None = None, *,
               lock: bool = False) -> Any:
    """The report's row (locked for a step), or NotFound — also when it is outside the caller's scope."""
    q = select(monthly_reports).where(monthly_reports.c.report_id == report_id,
                                      *(visible(principal) if principal else []))
    row = (await conn.execute(q.with_for_update() if lock else q)).first()
    if row is None:
        raise NotFound(f"monthly report {report_id} does not exist")
    return row


def out(row: Any, history: list[Any] | None = None) -> ReportOut:
    return ReportOut.model_validate(dict(row._mapping) | {"history": None if history is None else [
        StepOut.model_validate(dict(h._mapping)) for h in history]})


async def with_history(conn: AsyncConnection, report_id: str) -> ReportOut:
    row = await load(conn, report_id)
    history = (await conn.execute(select(monthly_report_steps).where(monthly_report_steps.c.report_id == report_id)
                                  .order_by(monthly_report_steps.c.seq))).all()
    return out(row, list(history))


async def lock_month(conn: AsyncConnection, kind: ReportKind, month: str, division: str) -> None:
    """Take the turn of a month's report of a division (or the city) until the transaction ends: the same request
    made twice at once makes one report."""
    await conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"sync.monthly-report.{kind}.{month}."
                                                                       f"{division}"))))


async def draft(conn: AsyncConnection, store: EventStore, event: MonthlyReportDrafted) -> None:
    """Make a report: the first event of its stream."""
    await store.append(conn, stream_id=f"monthly-report-{event.report_id}", stream_type="monthly-report",
                       expected_version=0, events=[event], meta=store.metadata(actor=event.prepared_by))


async def step(conn: AsyncConnection, store: EventStore, row: Any, what: ReportStep, actor: str,
               at: datetime | None = None, **fields: Any) -> ReportStatus:
    """Move a report one step (409 when its table has no such step where it stands); where it now stands."""
    kind, status = ReportKind(row.kind), ReportStatus(row.status)
    target = after(kind, status, what, row.report_id)
    month = Month.parse(row.month)
    event = MonthlyReportStepped(report_id=row.report_id, kind=kind, month=row.month, fiscal_year=month.year,
                                 period_end=month.last_day, division=row.division,
                                 step=what, from_status=status, to_status=target, actor=actor,
                                 at=at or clock().now(), **fields)
    stream_id = f"monthly-report-{row.report_id}"
    await store.append(conn, stream_id=stream_id, stream_type="monthly-report",
                       expected_version=await store.version(conn, stream_id), events=[event],
                       meta=store.metadata(actor=actor))
    return target
