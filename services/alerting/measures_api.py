"""Records the measures open (第二十二条(三)): the supervision bureau's inbox of referred cases (移交) and the outcome
it records, the circulars (通报) and the recoveries (收回资金) the ledger withdraws; each once per alert, from the
sheet that takes the measure (a recovery that came back short: again, for the rest)."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.clock import clock
from backbone.errors import InvalidInput, NotFound, fault
from backbone.identity import CurrentPrincipal, Principal
from backbone.pages import Page, PagingDep
from backbone.paging import newest_first
from backbone.service import Runtime, RuntimeDep
from contracts.alerting import DisposalSheet
from contracts.values import REFERRAL_DECISIONS
from services.alerting.lifecycle import AlertState
from services.alerting.measures import (Against, Recovery, RecoveryState, circulate, conclude, default_against,
                                        numbered, recover, refer)
from services.alerting.measures_projections import circulars, measure_counters, recoveries, referrals
from services.alerting.projections import alerts, balances

router = APIRouter(prefix="/api/v1", tags=["alerting"])
ReferralNumber = Annotated[str, PathParam(max_length=40, examples=["YJ-2026-000001"])]


class ReferralOutcome(BaseModel):
    """What the supervision bureau found and decided on a referred case."""

    decision: str = Field(description="处理决定: " + "、".join(REFERRAL_DECISIONS))
    findings: str = Field(description="查处情况")
    concluded_by: str
    concluded_at: datetime


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
    outcome: ReferralOutcome | None = Field(None, description="The bureau's outcome, once recorded.")

    @classmethod
    def of(cls, row: Any) -> "ReferralOut":
        m = row._mapping
        outcome = (ReferralOutcome(decision=m["decision"], findings=m["outcome_findings"],
                                   concluded_by=m["concluded_by"], concluded_at=m["concluded_at"])
                   if m["decision"] else None)
        return cls(outcome=outcome, **{k: m[k] for k in cls.model_fields if k != "outcome"})


class OutcomeIn(BaseModel):
    """The outcome of a referred case, as the supervision bureau records it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    decision: str = Field(description="处理决定: " + "、".join(REFERRAL_DECISIONS))
    findings: str = Field(min_length=1, max_length=4000, description="查处情况")

    @field_validator("decision")
    @classmethod
    def _decision(cls, v: str) -> str:
        if v not in REFERRAL_DECISIONS:
            raise ValueError("expected one of " + "、".join(REFERRAL_DECISIONS))
        return v


class RecoveryOut(BaseModel):
    """An alert's recovery (收回资金): what its sheets ordered, what the ledger withdrew, what is short."""

    indicator_id: str
    state: RecoveryState
    amount: Decimal = Field(description="What the measure asks back (the first order's 退回金额).")
    withdrawn: Decimal = Field(description="Withdrawn by the ledger so far.")
    shortfall: Decimal | None = Field(description="Ordered and not withdrawn, once the ledger answered every order.")
    sheet_number: str = Field(description="The sheet of the latest order.")
    ordered_by: str
    ordered_at: datetime
    answered_at: datetime | None


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


async def _recovery_row(conn: AsyncConnection, alert_id: str) -> Any:
    return (await conn.execute(select(recoveries).where(recoveries.c.alert_id == alert_id))).first()


def _standing(row: Any) -> Recovery | None:
    return Recovery(row.ordered, row.withdrawn, row.orders, row.answers) if row else None


async def recovery_standing(conn: AsyncConnection, alert_id: str) -> Recovery | None:
    """An alert's recovery as the ledger answered it so far, if a measure ordered one."""
    return _standing(await _recovery_row(conn, alert_id))


async def open_recovery(conn: AsyncConnection, runtime: Runtime, alert: AlertState, sheet: DisposalSheet,
                        principal: Principal, now: datetime) -> str:
    """Order the ledger's withdrawal of the sheet's 退回金额 from the alert's indicator: once, or for the rest after
    the ledger answered short; a sheet while an order stands finds it. Returns the amount the alert asks back."""
    row = (await conn.execute(select(alerts.c.rule_number, alerts.c.indicator_id)
                              .where(alerts.c.alert_id == alert.alert_id))).one()
    standing = _standing(await _recovery_row(conn, alert.alert_id))
    b = balances.c
    available = await conn.scalar(select(b.amount - b.allocated - b.paid + b.refunded)
                                  .where(b.indicator_id == row.indicator_id)) if row.indicator_id else None
    try:
        event = recover(alert, row.rule_number, sheet, row.indicator_id, available, standing, now)
    except ValueError as exc:
        field, message = exc.args
        raise InvalidInput(message, errors=[fault(field, message)]) from None
    if event is None:
        return format(standing.ordered, "f")  # type: ignore[union-attr]  # None only while an order stands
    await runtime.store.append(conn, stream_id=f"recovery-{alert.alert_id}", stream_type="recovery",
                               expected_version=standing.orders if standing else 0, events=[event],
                               meta=runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit))
    return format(standing.ordered if standing else event.amount, "f")


async def recovery_of(conn: AsyncConnection, alert_id: str) -> RecoveryOut | None:
    """The recovery an alert's measures ordered and what the ledger made of it, if any."""
    row = await _recovery_row(conn, alert_id)
    if row is None:
        return None
    standing = _standing(row)
    return RecoveryOut(indicator_id=row.indicator_id, state=standing.state, amount=row.ordered,  # type: ignore[union-attr]
                       withdrawn=row.withdrawn, shortfall=standing.shortfall, sheet_number=row.sheet_number,  # type: ignore[union-attr]
                       ordered_by=row.ordered_by, ordered_at=row.ordered_at, answered_at=row.answered_at)


async def measures_of(conn: AsyncConnection, alert_id: str) -> tuple[ReferralOut | None, CircularOut | None]:
    """The case an alert was referred as and the circular it gave rise to, if any."""
    referral = (await conn.execute(select(referrals).where(referrals.c.alert_id == alert_id))).first()
    circular = (await conn.execute(select(circulars).where(circulars.c.alert_id == alert_id))).first()
    return (ReferralOut.of(referral) if referral else None,
            CircularOut(**circular._mapping) if circular else None)


@router.get("/referrals", response_model=Page[ReferralOut])
async def list_referrals(principal: CurrentPrincipal, runtime: RuntimeDep, asked: PagingDep) -> Page[ReferralOut]:
    """The cases referred to the supervision bureau (移交), newest first by (referred_at, number)."""
    query = select(referrals).where(*principal.where_visible(referrals.c.org_unit, referrals.c.owner_division))
    async with runtime.engine.connect() as conn:
        rows, next_cursor = await newest_first(conn, query, referrals.c.referred_at, referrals.c.number,
                                               asked.cursor, asked.limit)
    return Page[ReferralOut](items=[ReferralOut.of(r) for r in rows], next_cursor=next_cursor)


@router.post("/referrals/{number}/outcome", response_model=ReferralOut)
async def post_referral_outcome(number: ReferralNumber, body: OutcomeIn, principal: CurrentPrincipal,
                                runtime: RuntimeDep) -> ReferralOut:
    """The supervision bureau records what it found and decided on a referred case, once: the same outcome again
    changes nothing, another one is a 409."""
    async with runtime.engine.begin() as conn:
        row = (await conn.execute(select(referrals).where(referrals.c.number == number).with_for_update())).first()
        if row is None:
            raise NotFound(f"referral {number} does not exist")
        event = conclude(number=number, alert_id=row.alert_id, org_unit=row.org_unit,
                         owner_division=row.owner_division,
                         recorded=(row.decision, row.outcome_findings) if row.decision else None,
                         decision=body.decision, findings=body.findings, by=principal.subject, now=clock().now())
        if event is not None:
            await runtime.store.append(conn, stream_id=f"referral-{row.alert_id}", stream_type="referral",
                                       expected_version=1, events=[event],
                                       meta=runtime.store.metadata(actor=principal.subject,
                                                                   org_unit=principal.org_unit))
        return ReferralOut.of((await conn.execute(select(referrals).where(referrals.c.number == number))).one())


@router.get("/circulars", response_model=Page[CircularOut])
async def list_circulars(principal: CurrentPrincipal, runtime: RuntimeDep, asked: PagingDep) -> Page[CircularOut]:
    """Circulars (通报) on alerts the caller may see, newest first by (circulated_at, number)."""
    query = select(circulars).where(*principal.where_visible(circulars.c.org_unit, circulars.c.owner_division))
    async with runtime.engine.connect() as conn:
        rows, next_cursor = await newest_first(conn, query, circulars.c.circulated_at, circulars.c.number,
                                               asked.cursor, asked.limit)
    return Page[CircularOut](items=[CircularOut(**r._mapping) for r in rows], next_cursor=next_cursor)
