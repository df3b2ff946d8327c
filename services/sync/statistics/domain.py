"""District statistics (第七条(二), 第二十三条) as arithmetic: each district's allocation and payment progress, the
timeliness of its performance filings, its alerts and how long they waited at each step (`steps.py`), the circulars
(通报) and talks (约谈) recorded against it; and the divisions' overdue steps on the city's own alerts. Pure: no I/O,
no clock."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from backbone.workdays import WorkdayCalendar
from contracts.values import DIVISIONS, ORG_UNITS
from services.sync.domain import DISTRICTS, SHARE, ZERO, payment_progress
from services.sync.statistics.steps import (AlertTally, Step, StepTime, average, raised_between, standing, step_times,
                                            talks, waits)

# 第二十六条(一): goals within 5 working days of the document's issue (JX-001's default).
GOALS_DAYS = 5
# An execution report within 10 working days of its period's end (JX-003's default).
REPORT_DAYS = 10


@dataclass(frozen=True)
class Allocation:
    """A child indicator: the day its parent (the allocating org unit's indicator) was received, and its own."""

    org_unit: str
    received_on: date
    allocated_on: date


@dataclass(frozen=True)
class AllocationProgress:
    """预算分配下达进度: how much was passed on, and in how many working days from receipt."""

    received: Decimal
    allocated: Decimal
    allocated_share: Decimal | None
    allocations: int
    average_working_days: Decimal | None
    max_working_days: int | None


def allocation_progress(received: Decimal, allocated: Decimal, allocations: Iterable[Allocation],
                        calendar: WorkdayCalendar) -> AllocationProgress:
    """What was allocated of what was received, and the working days each allocation of the period took."""
    days = [calendar.workdays_between(a.received_on, a.allocated_on) for a in allocations]
    share = (allocated / received).quantize(SHARE, rounding=ROUND_HALF_UP) if received > 0 else None
    return AllocationProgress(received=received, allocated=allocated, allocated_share=share, allocations=len(days),
                              average_working_days=average(days), max_working_days=max(days) if days else None)


@dataclass(frozen=True)
class PaymentProgress:
    """支付进度 against 序时进度: behind when the share paid lags the share of the year gone by."""

    received: Decimal
    paid: Decimal
    refunded: Decimal
    payment_progress: Decimal | None
    time_progress: Decimal
    behind: bool


def payment_against_time(received: Decimal, paid: Decimal, refunded: Decimal,
                         time_progress: Decimal) -> PaymentProgress:
    progress = payment_progress(received, paid, refunded)
    return PaymentProgress(received=received, paid=paid, refunded=refunded, payment_progress=progress,
                           time_progress=time_progress, behind=progress is not None and progress < time_progress)


@dataclass(frozen=True)
class Filing:
    """A performance filing first filed on `filed_on`: goals count from their indicator's issue (or registration),
    an execution report from its period's end."""

    org_unit: str
    filing: str  # goals, report
    counts_from: date | None
    filed_on: date


@dataclass(frozen=True)
class FilingTimeliness:
    """绩效 filings of the period filed within their time, and after it."""

    on_time: int
    late: int


def due_on(filing: Filing, calendar: WorkdayCalendar) -> date | None:
    """The last day a filing is in time; None when nothing tells where its time counts from."""
    if filing.counts_from is None:
        return None
    return calendar.add_workdays(filing.counts_from, GOALS_DAYS if filing.filing == "goals" else REPORT_DAYS)


def filing_timeliness(filings: Iterable[Filing], calendar: WorkdayCalendar) -> FilingTimeliness:
    """On time or late, for the filings whose time is known."""
    on_time = late = 0
    for f in filings:
        due = due_on(f, calendar)
        if due is not None:
            on_time += f.filed_on <= due
            late += f.filed_on > due
    return FilingTimeliness(on_time=on_time, late=late)


@dataclass(frozen=True)
class MoneySums:
    received: Decimal = ZERO
    allocated: Decimal = ZERO
    paid: Decimal = ZERO
    refunded: Decimal = ZERO


@dataclass(frozen=True)
class DistrictStatistics:
    """One district's (or development zone's) month."""

    org_unit: str
    org_unit_name: str
    allocation: AllocationProgress
    payment: PaymentProgress
    filings: FilingTimeliness
    alerts_raised: int
    alerts: list[AlertTally]
    step_times: list[StepTime]
    overdue_steps: int
    circulars: int
    talks: int


@dataclass(frozen=True)
class DivisionOverdue:
    """A city division's own alerts (those of no district): open at the cut-off, and overdue steps."""

    division: str
    division_name: str
    open_alerts: int
    overdue_steps: int


@dataclass(frozen=True)
class MonthFacts:
    """What the read model holds for the period, every district together."""

    money: dict[str, MoneySums] = field(default_factory=dict)
    allocations: list[Allocation] = field(default_factory=list)
    filings: list[Filing] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    circulars: dict[str, int] = field(default_factory=dict)


def district_statistics(org_unit: str, facts: MonthFacts, start: datetime, until: datetime,
                        time_progress: Decimal, calendar: WorkdayCalendar) -> DistrictStatistics:
    """One district's figures for [start, until)."""
    m = facts.money.get(org_unit, MoneySums())
    steps = [s for s in facts.steps if s.org_unit == org_unit]
    its_waits = waits(steps, start, until, calendar)
    return DistrictStatistics(
        org_unit=org_unit, org_unit_name=ORG_UNITS.get(org_unit, org_unit),
        allocation=allocation_progress(m.received, m.allocated,
                                       [a for a in facts.allocations if a.org_unit == org_unit], calendar),
        payment=payment_against_time(m.received, m.paid, m.refunded, time_progress),
        filings=filing_timeliness((f for f in facts.filings if f.org_unit == org_unit), calendar),
        alerts_raised=raised_between(steps, start, until), alerts=standing(steps, until),
        step_times=step_times(its_waits), overdue_steps=sum(1 for w in its_waits if w.overdue),
        circulars=facts.circulars.get(org_unit, 0), talks=talks(steps, start, until))


def division_overdue(facts: MonthFacts, start: datetime, until: datetime,
                     calendar: WorkdayCalendar) -> list[DivisionOverdue]:
    """Per division that owns alerts of no district: its open alerts and overdue steps."""
    own = [s for s in facts.steps if s.org_unit not in DISTRICTS and s.owner_division]
    out = []
    for division in sorted({s.owner_division for s in own if s.owner_division}):
        steps = [s for s in own if s.owner_division == division]
        still_open = sum(t.count for t in standing(steps, until) if t.status == "open")
        overdue = sum(1 for w in waits(steps, start, until, calendar) if w.overdue)
        out.append(DivisionOverdue(division=division, division_name=DIVISIONS.get(division, division),
                                   open_alerts=still_open, overdue_steps=overdue))
    return out


def cut_off(month_end: datetime, now: datetime) -> datetime:
    """A month is counted until its end, or until now while it runs."""
    return min(month_end, now)
