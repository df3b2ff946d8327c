"""The city report's way out (月报, 第二十四条(二)(三), 第二十七条): the supervision bureau's sign-off of the
suspicious items, the poverty office's co-signature that hands it to the exchange, and the treasury's revision of
a returned (or acknowledged) report as a new version that names the one it corrects."""

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from backbone.clock import clock
from backbone.errors import Forbidden, InvalidInput, fault
from backbone.identity import CurrentPrincipal
from backbone.lifecycle import StepOutOfTurn
from backbone.months import Month
from backbone.service import RuntimeDep
from contracts.province import DivisionPart, MessageKind, MonthFigures, MonthlyReport
from contracts.values import CITY_ORG_UNIT
from services.sync.exchange.outbound import enqueue
from services.sync.reports import records
from services.sync.reports.api import consolidate
from services.sync.reports.lifecycle import REVISABLE, ReportKind, ReportStatus, ReportStep, check_duties
from services.sync.reports.projections import monthly_reports
from services.sync.reports.records import ReportOut

router = APIRouter(prefix="/api/v1", tags=["monthly reports"])
ReportId = Annotated[str, Path(max_length=64)]


class Decision(StrEnum):
    APPROVE = "approve"
    RETURN = "return"


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    decision: Decision
    opinion: str | None = Field(None, max_length=5000, description="Required when returning.")


class RevisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    analysis: str | None = Field(None, max_length=20000, description="The revised 问题及建议; the previous one "
                                                                     "when left out.")


def _opinion_needed(body: DecisionIn) -> None:
    if body.decision is Decision.RETURN and not body.opinion:
        raise InvalidInput("a returned report says why", errors=[fault("opinion", "required when returning")])


def _city(row: Any) -> None:
    if row.kind != ReportKind.CITY:
        raise InvalidInput(f"{row.report_id} is a division report: only the city report is reviewed and co-signed",
                           errors=[fault("report_id", "not a city report")])


@router.post("/monthly-reports/{report_id}/supervision-review", response_model=ReportOut)
async def supervision_review(report_id: ReportId, body: DecisionIn, principal: CurrentPrincipal,
                             runtime: RuntimeDep) -> ReportOut:
    """The supervision bureau (监督局) signs off the suspicious items and their verification (疑点, 三), or returns
    the report to the treasury."""
    _opinion_needed(body)
    async with runtime.engine.begin() as conn:
        row = await records.load(conn, report_id, principal, lock=True)
        _city(row)
        what = ReportStep.APPROVE_SUSPICIOUS if body.decision is Decision.APPROVE else ReportStep.RETURN_SUSPICIOUS
        check_duties(principal.subject, what, report_id, prepared_by=row.prepared_by)
        await records.step(conn, runtime.store, row, what, principal.subject, opinion=body.opinion)
        return await records.with_history(conn, report_id)


@router.post("/monthly-reports/{report_id}/cosignature", response_model=ReportOut)
async def cosign(report_id: ReportId, body: DecisionIn, principal: CurrentPrincipal,
                 runtime: RuntimeDep) -> ReportOut:
    """The poverty office (局脱贫办) co-signs (第二十七条) — never whoever prepared the report — and the report goes
    to the exchange, signed, as a `monthly_report` message; or it returns it to the treasury."""
    _opinion_needed(body)
    async with runtime.engine.begin() as conn:
        row = await records.load(conn, report_id, principal, lock=True)
        _city(row)
        what = ReportStep.COSIGN if body.decision is Decision.APPROVE else ReportStep.REFUSE_COSIGNATURE
        check_duties(principal.subject, what, report_id, prepared_by=row.prepared_by, signed_off_by=row.supervised_by)
        now = clock().now()
        await records.step(conn, runtime.store, row, what, principal.subject, now, opinion=body.opinion)
        if what is ReportStep.COSIGN:
            row = await records.load(conn, report_id)
            payload = MonthlyReport(
                city=CITY_ORG_UNIT, month=row.month, version=row.version, corrects=row.corrects,
                report_id=report_id, figures=MonthFigures.model_validate(row.figures),
                divisions=[DivisionPart.model_validate(d) for d in row.divisions], analysis=row.analysis,
                supervision_opinion=row.supervision_opinion, cosigner=principal.subject, cosigned_at=now,
                cosignature_opinion=body.opinion)
            message_id = await enqueue(conn, MessageKind.MONTHLY_REPORT, f"{row.month}/v{row.version}", payload,
                                       runtime.settings, now)
            await records.step(conn, runtime.store, row, ReportStep.SEND, records.SYSTEM, now, message_id=message_id)
        return await records.with_history(conn, report_id)


@router.post("/monthly-reports/{report_id}/revision", status_code=201, response_model=ReportOut)
async def revise(report_id: ReportId, body: RevisionIn, principal: CurrentPrincipal, runtime: RuntimeDep,
                 response: Response) -> ReportOut:
    """The treasury revises a returned city report, or corrects an acknowledged one: a new version, consolidated
    again, that names the one it corrects and goes round again. Asked again, that version comes back (200)."""
    if "treasury" not in principal.roles:
        raise Forbidden("the city report is revised by the treasury (国库处)")
    async with runtime.engine.begin() as conn:
        row = await records.load(conn, report_id, principal, lock=True)
        _city(row)
        made = (await conn.execute(select(monthly_reports.c.report_id)
                                   .where(monthly_reports.c.corrects == report_id))).scalar()
        if made is not None:
            response.status_code = 200
            return await records.with_history(conn, made)
        if ReportStatus(row.status) not in REVISABLE:
            raise StepOutOfTurn(f"city report {report_id} is {row.status}: only a returned or acknowledged report "
                                "is revised", status_now=row.status, allowed=[])
        latest = await conn.scalar(select(monthly_reports.c.version).where(
            monthly_reports.c.kind == ReportKind.CITY, monthly_reports.c.month == row.month)
            .order_by(monthly_reports.c.version.desc()).limit(1))
        if latest != row.version:
            raise InvalidInput(f"{report_id} is not the latest version of {row.month}: revise version {latest}",
                               errors=[fault("report_id", "a later version exists")])
        without = {d["division"]: d["without_reason"] for d in row.divisions if d["without_reason"]}
        version = row.version + 1
        new_id = records.report_id_for(ReportKind.CITY, row.month, row.division, version)
        await records.lock_month(conn, ReportKind.CITY, row.month, row.division)
        await consolidate(conn, runtime, principal, Month.parse(row.month), new_id, version, report_id,
                          body.analysis if body.analysis is not None else row.analysis, without)
        return await records.with_history(conn, new_id)
