"""Ledger routes: register an indicator, read it with its balance."""

from datetime import date, datetime
from uuid import uuid4
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field

from backbone.errors import Forbidden, InvalidInput, NotFound
from backbone.identity import CurrentPrincipal, require_roles
from backbone.service import RuntimeDep
from contracts.values import FundNature, Level, Money
from services.ledger.domain import register_indicator
from services.ledger.projections import indicator_with_balance

SHANGHAI = ZoneInfo("Asia/Shanghai")
router = APIRouter(prefix="/api/v1", tags=["ledger"])


class IndicatorIn(BaseModel):
    """An indicator (预算指标) to register, with the elements of 第六条."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    doc_no: str = Field(min_length=1, max_length=100, description="指标文件号", examples=["长财农指〔2026〕12号"])
    fund_name: str = Field(min_length=1, max_length=200, description="资金名称")
    fund_nature: FundNature = Field(description="资金性质")
    function_code: str = Field(pattern=r"^\d{3}(\d{2}){0,2}$", description="支出功能分类科目", examples=["2130504"])
    economic_code: str = Field(pattern=r"^\d{3}(\d{2})?$", description="政府支出经济分类科目", examples=["50901"])
    budget_project: str = Field(min_length=1, max_length=200, description="预算项目")
    amount: Money = Field(description="金额")
    fiscal_year: int = Field(ge=2000, le=2100)
    level: Level
    issued_on: date | None = Field(None, description="文件印发日期")
    received_on: date | None = Field(None, description="接收日期")
    owner_division: str = Field(description="主管处室", examples=["agriculture"])
    org_unit: str = Field(examples=["220100"])
    poverty_tag: bool = Field(True, description="扶贫资金标识")
    parent_id: str | None = None


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


@router.post("/indicators", status_code=status.HTTP_201_CREATED, response_model=Created,
             dependencies=[Depends(require_roles("admin", "treasury", "budget", "division", "district"))])
async def post_indicator(body: IndicatorIn, principal: CurrentPrincipal, runtime: RuntimeDep) -> Created:
    """Register an indicator on the platform (登记, 第二十六条)."""
    if not principal.can_see(org_unit=body.org_unit, owner_division=body.owner_division):
        raise Forbidden("the indicator is outside your org unit or division")
    indicator_id = str(uuid4())
    event = register_indicator(indicator_id=indicator_id, fields=body.model_dump(),
                               today=datetime.now(SHANGHAI).date())
    async with runtime.engine.begin() as conn:
        if body.parent_id and await indicator_with_balance(conn, body.parent_id) is None:
            raise InvalidInput(f"parent indicator {body.parent_id} does not exist",
                               errors=[{"field": "parent_id", "message": "no such indicator"}])
        stored = await runtime.store.append(
            conn, stream_id=f"indicator-{indicator_id}", stream_type="indicator", expected_version=0,
            events=[event], meta=runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit),
        )
    return Created(id=indicator_id, version=stored[-1].version)


@router.get("/indicators/{indicator_id}", response_model=IndicatorOut)
async def get_indicator(indicator_id: str, principal: CurrentPrincipal, runtime: RuntimeDep) -> IndicatorOut:
    """The indicator with its balance {amount, allocated, paid, available}."""
    async with runtime.engine.connect() as conn:
        found = await indicator_with_balance(conn, indicator_id)
    if found is None or not principal.can_see(org_unit=found[0]["org_unit"], owner_division=found[0]["owner_division"]):
        raise NotFound(f"indicator {indicator_id} does not exist")
    row, balance = found
    return IndicatorOut(
        **row, id=row["indicator_id"],
        balance=BalanceOut(amount=balance.amount, allocated=balance.allocated, paid=balance.paid,
                           refunded=balance.refunded, available=balance.available),
    )
