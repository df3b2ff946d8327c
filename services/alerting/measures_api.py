"""Records the measures open (第二十二条(三)): the supervision bureau's inbox of referred cases (移交), the
circulars (通报) and the recoveries (收回资金) the ledger withdraws; each once per alert, from the sheet that takes
the measure."""

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.errors import InvalidInput, fault
from backbone.identity import CurrentPrincipal, Principal
from backbone.pages import Page, PagingDep
from backbone.paging import newest_first
from backbone.service import Runtime, RuntimeDep
from contracts.alerting import DisposalSheet
from services.alerting.lifecycle import AlertState
from services.alerting.measures import Against, circulate, default_against, numbered, recover, refer
from services.alerting.projections import alerts, balances, circulars, measure_counters, referrals

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


class CircularOut(BaseModel):
    """A circular (通报) against a district or a division, with the alert and the sheet behind it."""

    number: str = Field(examples=["TB-2026-000001"])
    alert_id: str
    rule_id: str
    rule_number: str
    against: Against
    org_unit: str | None
    owner_division: str | None
    sheet_number: str
    findings: str
    circulated_by: str
    circulated_at: datetime


async def _next_number(conn: AsyncConnection, kind: str, year: int) -> str:
    # Taken in the step's transaction, which the alert's own version guards: a refused step gives it back.
    serial = await conn.scalar(pg_insert(measure_counters).values(kind=kind, year=year, last=1).on_conflict_do_update(
        index_elements=[measure_counters.c.kind, measure_counters.c.year], set_={"last": measure_counters.c.last + 1})
        .returning(measure_counters.c.last))
    return numbered(kind, year, serial)


async def _opened(conn: AsyncConnection, table: Table, alert_id: str) -> str | None:
    return await conn.scalar(select(table.c.number).where(table.c.alert_id == alert_id))


async def open_referral(conn: AsyncConnection, runtime: Runtime, alert: AlertState, sheet: DisposalSheet,
                        principal: Principal, now: datetime) -> str:
    """The alert's case in the bureau's inbox, opened once: a later sheet with the same measure finds it."""
    if opened := await _opened(conn, referrals, alert.alert_id):
        return opened
    rule_number = await conn.scalar(select(alerts.c.rule_number).where(alerts.c.alert_id == alert.alert_id))
    event = refer(alert, rule_number, sheet, await _next_number(conn, "YJ", now.year), now)
    await runtime.store.append(conn, stream_id=f"referral-{alert.alert_id}", stream_type="referral",
                               expected_version=0, events=[event],
                               meta=runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit))
    return event.number


async def open_circular(conn: AsyncConnection, runtime: Runtime, alert: AlertState, sheet: DisposalSheet,
                        against: Against | None, principal: Principal, now: datetime) -> str:
    """The alert's circular, recorded once: a later sheet with the same measure finds it."""
    if opened := await _opened(conn, circulars, alert.alert_id):
        return opened
    rule_number = await conn.scalar(select(alerts.c.rule_number).where(alerts.c.alert_id == alert.alert_id))
    try:
        event = circulate(alert, rule_number, sheet, against or default_against(alert),
                          await _next_number(conn, "TB", now.year), now)
    except ValueError as exc:
        raise InvalidInput(str(exc), errors=[fault("body.circulate_against", str(exc))]) from None
    await runtime.store.append(conn, stream_id=f"circular-{alert.alert_id}", stream_type="circular",
                               expected_version=0, events=[event],
                               meta=runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit))
    return event.number


async def open_recovery(conn: AsyncConnection, runtime: Runtime, alert: AlertState, sheet: DisposalSheet,
                        principal: Principal, now: datetime) -> str:
    """Order the ledger's withdrawal of the sheet's 退回金额 from the alert's indicator, once per alert: a later
    sheet with the same measure finds the first order. Returns the amount ordered."""
    stream = f"recovery-{alert.alert_id}"
    if ordered := await runtime.store.read_stream(conn, stream):
        return ordered[0].payload["amount"]
    row = (await conn.execute(select(alerts.c.rule_number, alerts.c.indicator_id)
                              .where(alerts.c.alert_id == alert.alert_id))).one()
    b = balances.c
    available = await conn.scalar(select(b.amount - b.allocated - b.paid + b.refunded)
                                  .where(b.indicator_id == row.indicator_id)) if row.indicator_id else None
    try:
        event = recover(alert, row.rule_number, sheet, row.indicator_id, available, now)
    except ValueError as exc:
        field, message = exc.args
        raise InvalidInput(message, errors=[fault(field, message)]) from None
    await runtime.store.append(conn, stream_id=stream, stream_type="recovery", expected_version=0, events=[event],
                               meta=runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit))
    return format(event.amount, "f")


async def recovery_of(conn: AsyncConnection, runtime: Runtime, alert_id: str) -> dict[str, Any] | None:
    """The recovery an alert's measure ordered, as ordered, if any."""
    ordered = await runtime.store.read_stream(conn, f"recovery-{alert_id}")
    return ordered[0].payload if ordered else None


async def measures_of(conn: AsyncConnection, alert_id: str) -> tuple[ReferralOut | None, CircularOut | None]:
    """The case an alert was referred as and the circular it gave rise to, if any."""
    referral = (await conn.execute(select(referrals).where(referrals.c.alert_id == alert_id))).first()
    circular = (await conn.execute(select(circulars).where(circulars.c.alert_id == alert_id))).first()
    return (ReferralOut(**referral._mapping) if referral else None,
            CircularOut(**circular._mapping) if circular else None)


@router.get("/referrals", response_model=Page[ReferralOut])
async def list_referrals(principal: CurrentPrincipal, runtime: RuntimeDep, asked: PagingDep) -> Page[ReferralOut]:
    """The cases referred to the supervision bureau (移交), newest first by (referred_at, number)."""
    query = select(referrals).where(*principal.where_visible(referrals.c.org_unit, referrals.c.owner_division))
    async with runtime.engine.connect() as conn:
        rows, next_cursor = await newest_first(conn, query, referrals.c.referred_at, referrals.c.number,
                                               asked.cursor, asked.limit)
    return Page[ReferralOut](items=[ReferralOut(**r._mapping) for r in rows], next_cursor=next_cursor)


@router.get("/circulars", response_model=Page[CircularOut])
async def list_circulars(principal: CurrentPrincipal, runtime: RuntimeDep, asked: PagingDep) -> Page[CircularOut]:
    """Circulars (通报) on alerts the caller may see, newest first by (circulated_at, number)."""
    query = select(circulars).where(*principal.where_visible(circulars.c.org_unit, circulars.c.owner_division))
    async with runtime.engine.connect() as conn:
        rows, next_cursor = await newest_first(conn, query, circulars.c.circulated_at, circulars.c.number,
                                               asked.cursor, asked.limit)
    return Page[CircularOut](items=[CircularOut(**r._mapping) for r in rows], next_cursor=next_cursor)
