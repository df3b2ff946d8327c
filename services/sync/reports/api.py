"""The monthly reports API (月报, 第二十四条): a division's draft, its analysis and submission (一); the city report
the treasury consolidates from them (二); the list, one report with its history, and the printable workbook."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.clock import clock
from backbone.errors import DomainError, Forbidden, InvalidInput, fault
from backbone.identity import CurrentPrincipal, Principal
from backbone.pages import Page, PagingDep
from backbone.paging import newest_first
from backbone.service import Runtime, RuntimeDep
from contracts.province import MonthFigures
from contracts.sync import MonthlyReportDrafted
from contracts.values import DivisionCode
from services.sync.reports import records
from services.sync.reports.figures import Month, SubmittedReport, division_parts, missing_divisions
from services.sync.reports.lifecycle import ReportKind, ReportStatus, ReportStep
from services.sync.reports.projections import monthly_reports
from services.sync.reports.reading import month_figures, owning_divisions
from services.sync.reports.records import ReportOut
from services.sync.reports.workbook import report_workbook

router = APIRouter(prefix="/api/v1", tags=["monthly reports"])
ReportId = Annotated[str, Path(max_length=64)]
MonthText = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-11"])]
FIRST_YEAR = 2000  # the platform's first fiscal year (contracts.values.FiscalYear)
TREASURY = "treasury"


class WithoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    division: DivisionCode
    reason: str = Field(min_length=1, max_length=1000, description="Why the city report goes without its report.")


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    month: MonthText
    kind: ReportKind
    analysis: str | None = Field(None, max_length=20000, description="问题及建议")
    without: list[WithoutIn] = Field(default_factory=list, max_length=20,
                                     description="City report: the divisions it goes without, each with its reason.")


class AnalysisIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    analysis: str = Field(min_length=1, max_length=20000, description="问题及建议")


class DivisionsMissing(DomainError):
    """The city report lacks the report of a division that owns funds, and no reason to go without it was given."""

    status = 409
    type_name = "divisions-missing"
    title = "Division reports missing"


def month_over(text: str) -> Month:
    """The month asked for, once it has ended (Beijing)."""
    month = Month.parse(text)
    if month.year < FIRST_YEAR:
        raise InvalidInput(f"{text} is before the platform's fiscal years",
                           errors=[fault("month", f"must be in {FIRST_YEAR} or later")])
    if not month.over_by(clock().now()):
        raise InvalidInput(f"{text} is not over yet (Beijing): a month is reported once it has ended",
                           errors=[fault("month", "must be a month that has ended")])
    return month


@router.post("/monthly-reports", status_code=201, response_model=ReportOut)
async def create_report(body: ReportIn, principal: CurrentPrincipal, runtime: RuntimeDep,
                        response: Response) -> ReportOut:
    """A division's draft of its month (一, by the division), or the city report consolidated from the submitted
    division reports (二, by the treasury). Asked again, the report already made comes back (200)."""
    month = month_over(body.month)
    if body.kind is ReportKind.DIVISION:
        if "division" not in principal.roles or not principal.division:
            raise Forbidden("a division report is made by a division (主管处室)")
        if body.without:
            raise InvalidInput("only a city report goes without division reports",
                               errors=[fault("without", "only for kind city")])
        division = principal.division
    else:
        if "treasury" not in principal.roles:
            raise Forbidden("the city report is consolidated by the treasury (国库处)")
        division = TREASURY
    async with runtime.engine.begin() as conn:
        await records.lock_month(conn, body.kind, body.month, division)
        made = (await conn.execute(select(monthly_reports.c.report_id).where(
            monthly_reports.c.kind == body.kind, monthly_reports.c.month == body.month,
            monthly_reports.c.division == division).order_by(monthly_reports.c.version.desc()).limit(1))).scalar()
        if made is not None:
            response.status_code = 200
            return await records.with_history(conn, made)
        report_id = records.report_id_for(body.kind, body.month, division, 1)
        if body.kind is ReportKind.DIVISION:
            await records.draft(conn, runtime.store, MonthlyReportDrafted(
                report_id=report_id, kind=body.kind, month=body.month, division=division, version=1,
                status=ReportStatus.DRAFT, figures=await month_figures(conn, month, division),
                analysis=body.analysis, prepared_by=principal.subject, at=clock().now()))
        else:
            await consolidate(conn, runtime, principal, month, report_id, 1, None, body.analysis,
                              {w.division: w.reason for w in body.without})
        return await records.with_history(conn, report_id)


async def consolidate(conn: AsyncConnection, runtime: Runtime, principal: Principal, month: Month, report_id: str,
                      version: int, corrects: str | None, analysis: str | None, without: dict[str, str]) -> None:
    """Make a city report (a version of it): the submitted division reports taken in, the districts' figures."""
    r = monthly_reports
    taken = (await conn.execute(select(r).where(
        r.c.kind == ReportKind.DIVISION, r.c.month == str(month),
        r.c.status.in_([ReportStatus.SUBMITTED, ReportStatus.CONSOLIDATED])).with_for_update())).all()
    required = await owning_divisions(conn, month)
    missing = missing_divisions(required, [t.division for t in taken], without)
    if missing:
        raise DivisionsMissing(f"the reports of {', '.join(missing)} are missing: wait for them, or record in "
                               "`without` why the city report goes without them", missing=missing,
                               errors=[fault("without", f"no report and no reason for {d}") for d in missing])
    parts = division_parts(required, [SubmittedReport(t.report_id, t.division, t.version,
                                                      MonthFigures.model_validate(t.figures).totals,
                                                      t.analysis) for t in taken], without)
    now = clock().now()
    await records.draft(conn, runtime.store, MonthlyReportDrafted(
        report_id=report_id, kind=ReportKind.CITY, month=str(month), division=TREASURY, version=version,
        corrects=corrects, status=ReportStatus.CONSOLIDATED, figures=await month_figures(conn, month, None),
        divisions=parts, analysis=analysis, prepared_by=principal.subject, at=now))
    for t in taken:
        if t.status == ReportStatus.SUBMITTED:
            await records.step(conn, runtime.store, t, ReportStep.CONSOLIDATE, principal.subject, now,
                               consolidated_into=report_id)


@router.get("/monthly-reports", response_model=Page[ReportOut])
async def list_reports(
    principal: CurrentPrincipal, runtime: RuntimeDep, asked: PagingDep,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = None,
    kind: ReportKind | None = None, status: ReportStatus | None = None,
) -> Page[ReportOut]:
    """Monthly reports within the caller's scope (a division its own), newest first by (created_at, report_id)."""
    r = monthly_reports
    q = select(r).where(*records.visible(principal))
    for column, value in ((r.c.month, month), (r.c.kind, kind), (r.c.status, status)):
        if value is not None:
            q = q.where(column == value)
    async with runtime.engine.connect() as conn:
        rows, next_cursor = await newest_first(conn, q, r.c.created_at, r.c.report_id, asked.cursor, asked.limit)
    return Page[ReportOut](items=[records.out(row) for row in rows], next_cursor=next_cursor)


@router.get("/monthly-reports/{report_id}", response_model=ReportOut)
async def get_report(report_id: ReportId, principal: CurrentPrincipal, runtime: RuntimeDep) -> ReportOut:
    """One report: its status, sections and history."""
    async with runtime.engine.connect() as conn:
        await records.load(conn, report_id, principal)
        return await records.with_history(conn, report_id)


# POST, as every write of the platform (the gateway forwards GET and POST only).
@router.post("/monthly-reports/{report_id}/analysis", response_model=ReportOut)
async def write_analysis(report_id: ReportId, body: AnalysisIn, principal: CurrentPrincipal,
                         runtime: RuntimeDep) -> ReportOut:
    """Write the analysis (问题及建议): a division of its draft, the treasury of the city report before review."""
    async with runtime.engine.begin() as conn:
        row = await records.load(conn, report_id, principal, lock=True)
        _preparer_side(row, principal)
        if row.analysis == body.analysis:
            return await records.with_history(conn, report_id)
        await records.step(conn, runtime.store, row, ReportStep.EDIT, principal.subject, analysis=body.analysis)
        return await records.with_history(conn, report_id)


@router.post("/monthly-reports/{report_id}/submission", response_model=ReportOut)
async def submit(report_id: ReportId, principal: CurrentPrincipal, runtime: RuntimeDep) -> ReportOut:
    """A division hands its report to the treasury (主管处室按月报国库处)."""
    async with runtime.engine.begin() as conn:
        row = await records.load(conn, report_id, principal, lock=True)
        _preparer_side(row, principal)
        if not row.analysis:
            raise InvalidInput("write the analysis (问题及建议) before submitting",
                               errors=[fault("analysis", "required before submission")])
        await records.step(conn, runtime.store, row, ReportStep.SUBMIT, principal.subject)
        return await records.with_history(conn, report_id)


def _preparer_side(row: Any, principal: Principal) -> None:
    """A division report is written by its division; the city report by the treasury."""
    if row.kind == ReportKind.DIVISION and principal.division != row.division:
        raise Forbidden(f"report {row.report_id} is the {row.division} division's to write")
    if row.kind == ReportKind.CITY and "treasury" not in principal.roles:
        raise Forbidden(f"report {row.report_id} is the treasury's to write")


@router.get("/monthly-reports/{report_id}/workbook")
async def workbook(report_id: ReportId, principal: CurrentPrincipal, runtime: RuntimeDep) -> Response:
    """The report as a finance office hands it in: title, 填报单位, 填报人, 日期, its sections, signature lines."""
    async with runtime.engine.connect() as conn:
        await records.load(conn, report_id, principal)
        report = await records.with_history(conn, report_id)
    return report_workbook(report)
