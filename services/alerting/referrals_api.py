"""The supervision bureau's inbox of referred cases (移交, 第二十二条(三)), and opening one from a sheet."""

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.identity import CurrentPrincipal, Principal
from backbone.pages import Page, PagingDep
from backbone.paging import newest_first
from backbone.service import Runtime, RuntimeDep
from contracts.alerting import DisposalSheet
from services.alerting.lifecycle import AlertState
from services.alerting.projections import alerts, referral_counters, referrals
from services.alerting.referrals import refer, referral_number

router = APIRouter(prefix="/api/v1", tags=["alerting"])


class ReferralOut(BaseModel):
    """A case in the supervision bureau's inbox: the alert, the sheet that referred it, who referred it."""

    number: str = Field(examples=["YJ-2026-000001"])
    alert_id: str
    rule_id: str
    rule_number: str
    org_unit: str | None
    owner_division: str | None
    sheet_number: str = Field(description="The disposal sheet (处理单) that took the measure 移交监督局.")
    findings: str
    referred_by: str
    referred_by_division: str | None
    referred_at: datetime


async def open_referral(conn: AsyncConnection, runtime: Runtime, alert: AlertState, sheet: DisposalSheet,
                        principal: Principal, now: datetime) -> str:
    """The alert's case in the bureau's inbox, opened once: a later sheet with the same measure finds it."""
    opened = await conn.scalar(select(referrals.c.number).where(referrals.c.alert_id == alert.alert_id))
    if opened is not None:
        return opened
    # Taken in the step's transaction, which the alert's own version guards: a refused step gives it back.
    serial = await conn.scalar(pg_insert(referral_counters).values(year=now.year, last=1).on_conflict_do_update(
        index_elements=[referral_counters.c.year], set_={"last": referral_counters.c.last + 1})
        .returning(referral_counters.c.last))
    rule_number = await conn.scalar(select(alerts.c.rule_number).where(alerts.c.alert_id == alert.alert_id))
    event = refer(alert, rule_number, sheet, referral_number(now.year, serial), now)
    await runtime.store.append(conn, stream_id=f"referral-{alert.alert_id}", stream_type="referral",
                               expected_version=0, events=[event],
                               meta=runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit))
    return event.number


async def referral_of(conn: AsyncConnection, alert_id: str) -> ReferralOut | None:
    """The case an alert was referred as, if it was."""
    row = (await conn.execute(select(referrals).where(referrals.c.alert_id == alert_id))).first()
    return ReferralOut(**row._mapping) if row else None


@router.get("/referrals", response_model=Page[ReferralOut])
async def list_referrals(principal: CurrentPrincipal, runtime: RuntimeDep, asked: PagingDep) -> Page[ReferralOut]:
    """The cases referred to the supervision bureau (移交), newest first by (referred_at, number)."""
    query = select(referrals).where(*principal.where_visible(referrals.c.org_unit, referrals.c.owner_division))
    async with runtime.engine.connect() as conn:
        rows, next_cursor = await newest_first(conn, query, referrals.c.referred_at, referrals.c.number,
                                               asked.cursor, asked.limit)
    return Page[ReferralOut](items=[ReferralOut(**r._mapping) for r in rows], next_cursor=next_cursor)
