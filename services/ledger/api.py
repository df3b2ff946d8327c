"""Ledger routes: register an indicator, read it with its balance."""

from datetime import date, datetime
from decimal import Decimal
from uuid import uuid4

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.clock import clock
from backbone.errors import Forbidden, InvalidInput, NotFound, fault
from backbone.identity import CurrentPrincipal, Principal
from backbone.service import Runtime, RuntimeDep
from contracts.values import FundNature, Money
from services.ledger.domain import (ChildRequest, IndicatorIn, Standing, adjust, allocate, correct,
                                   register_indicator)
from services.ledger.ledger_view import scope_clause
from services.ledger.projections import as_registered, indicator_with_standing, indicators

router = APIRouter(prefix="/api/v1", tags=["ledger"])


class BalanceOut(BaseModel):
    amount: Money
    allocated: Money
    paid: Money
    refunded: Money
    available: Money


class IndicatorOut(IndicatorIn):
    model_config = ConfigDict(extra="ignore")

    id: str
    registered_on: date
    registered_by: str
    registered_at: datetime
    version: int
    balance: BalanceOut


class Created(BaseModel):
    id: str
    version: int


@router.post("/indicators", status_code=status.HTTP_201_CREATED, response_model=Created)
async def post_indicator(body: IndicatorIn, principal: CurrentPrincipal, runtime: RuntimeDep) -> Created:
    """Register an indicator on the platform (登记, 第二十六条)."""
    if body.parent_id:
        raise InvalidInput("a child indicator comes from its parent's allocation",
                           errors=[fault("parent_id", f"use POST /api/v1/indicators/{body.parent_id}/allocations")])
    if not principal.can_see(org_unit=body.org_unit, owner_division=body.owner_division):
        raise Forbidden("the indicator is outside your org unit or division")
    indicator_id = str(uuid4())
    event = register_indicator(indicator_id=indicator_id, fields=body.model_dump(), today=_today())
    async with runtime.engine.begin() as conn:
        stored = await runtime.store.append(
            conn, stream_id=f"indicator-{indicator_id}", stream_type="indicator", expected_version=0,
            events=[event], meta=runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit),
        )
    return Created(id=indicator_id, version=stored[-1].version)


@router.get("/indicators/{indicator_id}", response_model=IndicatorOut)
async def get_indicator(indicator_id: str, principal: CurrentPrincipal, runtime: RuntimeDep) -> IndicatorOut:
    """The indicator with its balance {amount, allocated, paid, available}."""
    async with runtime.engine.connect() as conn:
        found = await indicator_with_standing(conn, indicator_id)
        if found and not principal.can_see(org_unit=found[0]["org_unit"], owner_division=found[0]["owner_division"]):
            # The parents a caller's indicators came from are visible to it too.
            scope = scope_clause(principal)
            if not await conn.scalar(select(indicators.c.indicator_id).where(
                    indicators.c.indicator_id == indicator_id, scope)):
                found = None
    if found is None:
        raise NotFound(f"indicator {indicator_id} does not exist")
    return _indicator_out(*found)


class AllocationLine(BaseModel):
    """One line of an allocation (分配下达): a child indicator for an org unit and division."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    amount: Money
    org_unit: str = Field(examples=["220102"])
    owner_division: str = Field(examples=["agriculture"])
    budget_project: str | None = Field(None, min_length=1, max_length=200, description="预算项目, if not the parent's")
    economic_code: str | None = Field(None, pattern=r"^\d{3}(\d{2})?$", description="政府支出经济分类科目")
    doc_no: str | None = Field(None, min_length=1, max_length=100, description="下达文件号, if not the parent's")


class AllocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    allocations: list[AllocationLine] = Field(min_length=1, max_length=1000)


class ChildOut(BaseModel):
    id: str
    amount: Money
    org_unit: str
    owner_division: str


class AllocationOut(BaseModel):
    parent: IndicatorOut
    children: list[ChildOut]


@router.post("/indicators/{indicator_id}/allocations", status_code=status.HTTP_201_CREATED,
             response_model=AllocationOut)
async def post_allocations(indicator_id: str, body: AllocationIn, principal: CurrentPrincipal,
                           runtime: RuntimeDep) -> AllocationOut:
    """Allocate an indicator into child indicators (分配下达); children never exceed the parent."""
    outside = [fault(f"allocations[{i}].org_unit", "outside your org unit or division")
               for i, line in enumerate(body.allocations)
               if not principal.can_see(org_unit=line.org_unit, owner_division=line.owner_division)]
    if outside:
        raise Forbidden("the allocation reaches outside your scope", errors=outside)
    today = _today()
    children = [ChildRequest(child_id=str(uuid4()), amount=line.amount, org_unit=line.org_unit,
                             owner_division=line.owner_division,
                             overrides=line.model_dump(include={"budget_project", "economic_code", "doc_no"},
                                                       exclude_none=True))
                for line in body.allocations]
    meta = runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit)
    async with runtime.engine.begin() as conn:
        row, standing = await visible_indicator(conn, principal, indicator_id, lock=True)
        allocated, registered = allocate(parent=as_registered(row), standing=standing, children=children,
                                         today=today)
        await runtime.store.append(conn, stream_id=f"indicator-{indicator_id}", stream_type="indicator",
                                   expected_version=row["version"], events=allocated, meta=meta)
        for child in registered:
            await runtime.store.append(conn, stream_id=f"indicator-{child.indicator_id}", stream_type="indicator",
                                       expected_version=0, events=[child], meta=meta)
        row, standing = await indicator_with_standing(conn, indicator_id)  # type: ignore[misc]
    return AllocationOut(parent=_indicator_out(row, standing),
                         children=[ChildOut(id=c.indicator_id, amount=c.amount, org_unit=c.org_unit,
                                            owner_division=c.owner_division) for c in registered])


class AdjustmentIn(BaseModel):
    """调增 (positive) or 调减 (negative) of an indicator's amount, with the reason."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    amount: Money = Field(description="Signed change: positive 调增, negative 调减.")
    reason: str = Field(min_length=1, max_length=500)


class WithdrawalIn(BaseModel):
    """收回: money taken back from an indicator, with the reason."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    amount: Money = Field(description="How much is taken back (positive).")
    reason: str = Field(min_length=1, max_length=500)


@router.post("/indicators/{indicator_id}/adjustments", response_model=IndicatorOut)
async def post_adjustment(indicator_id: str, body: AdjustmentIn, principal: CurrentPrincipal,
                          runtime: RuntimeDep) -> IndicatorOut:
    """Increase or decrease an indicator (调增 / 调减)."""
    return await _adjust(indicator_id, body.amount, False, body.reason, principal, runtime)


@router.post("/indicators/{indicator_id}/withdrawals", response_model=IndicatorOut)
async def post_withdrawal(indicator_id: str, body: WithdrawalIn, principal: CurrentPrincipal,
                          runtime: RuntimeDep) -> IndicatorOut:
    """Take money back from an indicator (收回)."""
    if body.amount <= 0:
        raise InvalidInput("the amount taken back must be positive",
                           errors=[fault("amount", "must be greater than 0")])
    return await _adjust(indicator_id, -body.amount, True, body.reason, principal, runtime)


async def _adjust(indicator_id: str, delta: Decimal, withdrawal: bool, reason: str, principal: Principal,
                  runtime: Runtime) -> IndicatorOut:
    async with runtime.engine.begin() as conn:
        row, standing = await visible_indicator(conn, principal, indicator_id, lock=True)
        event = adjust(indicator=as_registered(row), standing=standing, delta=delta, withdrawal=withdrawal,
                       reason=reason, today=_today())
        await runtime.store.append(conn, stream_id=f"indicator-{indicator_id}", stream_type="indicator",
                                   expected_version=row["version"], events=[event],
                                   meta=runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit))
        row, standing = await indicator_with_standing(conn, indicator_id)  # type: ignore[misc]
    return _indicator_out(row, standing)


class CorrectionChanges(BaseModel):
    """The elements to correct (更正); the amount changes by adjustment, the unit and lineage not at all."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    doc_no: str | None = Field(None, min_length=1, max_length=100)
    fund_name: str | None = Field(None, min_length=1, max_length=200)
    fund_nature: FundNature | None = None
    function_code: str | None = Field(None, pattern=r"^\d{3}(\d{2}){0,2}$")
    economic_code: str | None = Field(None, pattern=r"^\d{3}(\d{2})?$")
    budget_project: str | None = Field(None, min_length=1, max_length=200)
    issued_on: date | None = None
    received_on: date | None = None
    owner_division: str | None = None
    poverty_tag: bool | None = None


class CorrectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    changes: CorrectionChanges
    reason: str = Field(min_length=1, max_length=500)


@router.post("/indicators/{indicator_id}/corrections", response_model=IndicatorOut)
async def post_correction(indicator_id: str, body: CorrectionIn, principal: CurrentPrincipal,
                          runtime: RuntimeDep) -> IndicatorOut:
    """Correct elements of an indicator (更正): a new event with the reason; nothing is edited in place."""
    changes = body.changes.model_dump(exclude_unset=True)
    async with runtime.engine.begin() as conn:
        row, _ = await visible_indicator(conn, principal, indicator_id, lock=True)
        if "owner_division" in changes and not principal.can_see(org_unit=row["org_unit"],
                                                                 owner_division=changes["owner_division"]):
            raise Forbidden("the indicator would move outside your scope")
        event = correct(indicator=as_registered(row), changes=changes, reason=body.reason, today=_today())
        await runtime.store.append(conn, stream_id=f"indicator-{indicator_id}", stream_type="indicator",
                                   expected_version=row["version"], events=[event],
                                   meta=runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit))
        row, standing = await indicator_with_standing(conn, indicator_id)  # type: ignore[misc]
    return _indicator_out(row, standing)


def _today() -> date:
    return clock().today()


async def visible_indicator(conn: AsyncConnection, principal: Principal, indicator_id: str, *,
                            lock: bool = False) -> tuple[dict, Standing]:
    """The indicator and its standing, if it is within the caller's own scope (outside it, it does not
    exist); `lock` holds its row, and so its stream, until the transaction ends."""
    found = await indicator_with_standing(conn, indicator_id, lock=lock)
    if found is None or not principal.can_see(org_unit=found[0]["org_unit"], owner_division=found[0]["owner_division"]):
        raise NotFound(f"indicator {indicator_id} does not exist")
    return found


def _indicator_out(row: dict, standing: Standing) -> IndicatorOut:
    return IndicatorOut(
        **row, id=row["indicator_id"],
        balance=BalanceOut(amount=standing.amount, allocated=standing.allocated, paid=standing.paid,
                           refunded=standing.refunded, available=standing.available),
    )
