"""The district statistics API (第七条(二), 第二十三条): each district's month within the caller's scope, as JSON
and as a workbook."""

from datetime import datetime
from decimal import Decimal

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from backbone.clock import clock
from backbone.identity import CurrentPrincipal, Principal
from backbone.months import Month, MonthQuery, month_asked
from backbone.service import Runtime, RuntimeDep
from backbone.workbooks import XLSX
from backbone.workdays import default_calendar, year_progress
from contracts.province import Share
from contracts.values import AlertLevel, AlertStatus, Money
from services.sync.domain import DISTRICTS
from services.sync.statistics import domain
from services.sync.statistics.reading import month_facts
from services.sync.statistics.workbook import statistics_workbook

router = APIRouter(prefix="/api/v1", tags=["district statistics"])


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class AllocationOut(_Out):
    received: Money = Field(description="Indicators the district received this fiscal year, up to the cut-off.")
    allocated: Money = Field(description="What it passed on (分配下达).")
    allocated_share: Share | None = Field(description="allocated / received; null when nothing was received.")
    allocations: int = Field(description="Allocations made in the month.")
    average_working_days: Decimal | None = Field(description="Working days from receipt to allocation, on average.")
    max_working_days: int | None


class PaymentOut(_Out):
    received: Money
    paid: Money
    refunded: Money
    payment_progress: Share | None = Field(description="支付进度: (paid − refunded) / received.")
    time_progress: Share = Field(description="序时进度 at the month's last day.")
    behind: bool = Field(description="Whether the payment progress lags the time progress.")


class FilingsOut(_Out):
    on_time: int = Field(description="Goals and execution reports first filed in the month within their time "
                                     "(goals 5 working days from the document's issue, 第二十六条(一); reports 10 "
                                     "working days from their period's end).")
    late: int


class AlertTallyOut(_Out):
    level: AlertLevel
    status: AlertStatus
    count: int


class StepTimeOut(_Out):
    level: AlertLevel = Field(description="The level waited at: a bell waits for the work, a yellow light for its "
                                          "verification, a red light for its correction.")
    waits: int = Field(description="Waits at this level under way in the month.")
    average_working_days: Decimal | None
    max_working_days: int | None
    overdue: int = Field(description="Waits of a person's step longer than 3 working days.")


class DistrictStatisticsOut(_Out):
    org_unit: str
    org_unit_name: str
    allocation: AllocationOut
    payment: PaymentOut
    filings: FilingsOut
    alerts_raised: int = Field(description="Alerts raised in the month.")
    alerts: list[AlertTallyOut] = Field(description="The month's alerts (raised or moved in it, or open when it "
                                                    "began) by the level and status they stood at the cut-off.")
    step_times: list[StepTimeOut]
    overdue_steps: int
    circulars: int = Field(description="Circulars (通报) against the district in the month.")
    talks: int = Field(description="Talks (约谈) recorded on disposal sheets in the month.")


class DivisionOverdueOut(_Out):
    division: str
    division_name: str
    open_alerts: int
    overdue_steps: int


class StatisticsOut(BaseModel):
    month: str
    as_of: datetime = Field(description="The cut-off: the month's end, or now while the month runs.")
    time_progress: Share
    districts: list[DistrictStatisticsOut] = Field(description="Each district and development zone in scope, "
                                                               "in code order.")
    divisions: list[DivisionOverdueOut] = Field(description="The city divisions' own alerts (of no district), "
                                                            "within the caller's scope.")


def _scope(principal: Principal) -> tuple[tuple[str, ...], str | None, bool]:
    """The districts a caller sees, the division whose funds alone it sees (None: every fund), and whether it sees
    the divisions' own alerts: a district itself, a division its funds everywhere, the city's roles everything."""
    if principal.citywide:
        return DISTRICTS, None, True
    if "district" in principal.roles and principal.org_unit in DISTRICTS:
        return (principal.org_unit,), None, False
    if "division" in principal.roles and principal.division:
        return DISTRICTS, principal.division, True
    return (), None, False


async def statistics(principal: Principal, runtime: Runtime, month: Month) -> StatisticsOut:
    """Every district's month within the caller's scope."""
    until = domain.cut_off(month.end, clock().now())
    org_units, division, with_city = _scope(principal)
    calendar = default_calendar()
    time_progress = year_progress(month.last_day)
    async with runtime.engine.connect() as conn:
        facts = await month_facts(conn, month.year, month.start, until, org_units, division, with_city=with_city)
    rows = [domain.district_statistics(o, facts, month.start, until, time_progress, calendar) for o in org_units]
    divisions = domain.division_overdue(facts, month.start, until, calendar) if with_city else []
    return StatisticsOut(month=str(month), as_of=until, time_progress=time_progress,
                         districts=[DistrictStatisticsOut.model_validate(r) for r in rows],
                         divisions=[DivisionOverdueOut.model_validate(d) for d in divisions])


@router.get("/districts/statistics", response_model=StatisticsOut)
async def district_statistics(principal: CurrentPrincipal, runtime: RuntimeDep, month: MonthQuery) -> StatisticsOut:
    """Per district and development zone (第七条(二), 第二十三条): allocation and payment progress, performance
    filings on time and late, alerts by level and status, working days per step and overdue steps, circulars
    (通报) and talks (约谈); a district sees itself, a division its own funds in every district."""
    return await statistics(principal, runtime, month_asked(month, clock().now()))


@router.get("/districts/statistics/workbook", response_class=Response,
            responses={200: {"content": {XLSX: {}}, "description": "The table within the caller's scope."}})
async def district_statistics_workbook(principal: CurrentPrincipal, runtime: RuntimeDep,
                                       month: MonthQuery) -> Response:
    """The district statistics of a month as a printable workbook."""
    return statistics_workbook(await statistics(principal, runtime, month_asked(month, clock().now())))
