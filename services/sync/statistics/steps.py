"""How long alerts waited at each step of their lifecycle (第二十二条, 第二十三条: 预警信息处理不及时), how they stood,
and the talks (约谈) their sheets name. Pure: no I/O, no clock."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from backbone.workdays import SHANGHAI, WorkdayCalendar

# National practice counts an office overdue after 3 working days at a step (LC-001's default parameter).
HANDLING_DAYS = 3
# 约谈 (第十八条: the bureau talks with a lagging district's leaders) is a measure a disposal sheet names:
# each such sheet is a talk.
TALK = "约谈"
WAITING_LEVELS = ("yellow_bell", "yellow", "red")
HANDLED_BY_PEOPLE = frozenset({"yellow", "red"})
DAYS = Decimal("0.01")


def _day(at: datetime) -> date:
    return at.astimezone(SHANGHAI).date()


def average(values: list[int]) -> Decimal | None:
    """The mean of working days, to the hundredth; None for none."""
    if not values:
        return None
    return (Decimal(sum(values)) / len(values)).quantize(DAYS, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Step:
    """One step of an alert: the level and status it stood at from `at` (its raising is its first step)."""

    alert_id: str
    org_unit: str | None
    owner_division: str | None
    level: str
    status: str
    at: datetime
    measures: tuple[str, ...] = ()


@dataclass(frozen=True)
class Wait:
    """An alert's wait at one open level, measured in working days up to its next step or the cut-off."""

    alert_id: str
    org_unit: str | None
    owner_division: str | None
    level: str
    working_days: int

    @property
    def overdue(self) -> bool:
        """A person's step (verify a yellow light, correct a red one) left longer than the handling limit."""
        return self.level in HANDLED_BY_PEOPLE and self.working_days > HANDLING_DAYS


def waits(steps: Iterable[Step], start: datetime, until: datetime, calendar: WorkdayCalendar) -> list[Wait]:
    """Every wait at an open level that was under way in [start, until): from its beginning until the alert's
    next step, or until `until` when it still waits then."""
    by_alert: dict[str, list[Step]] = {}
    for s in steps:
        if s.at < until:
            by_alert.setdefault(s.alert_id, []).append(s)
    out = []
    for alert_steps in by_alert.values():
        alert_steps.sort(key=lambda s: s.at)
        ends = [s.at for s in alert_steps[1:]] + [until]
        for s, end in zip(alert_steps, ends, strict=True):
            if s.status != "open" or end < start:
                continue
            out.append(Wait(s.alert_id, s.org_unit, s.owner_division, s.level,
                            calendar.workdays_between(_day(s.at), _day(min(end, until)))))
    return out


@dataclass(frozen=True)
class StepTime:
    """How long alerts waited at one level (黄色警铃 for the work, 黄灯 for verification, 红灯 for correction)."""

    level: str
    waits: int
    average_working_days: Decimal | None
    max_working_days: int | None
    overdue: int


def step_times(of: Iterable[Wait]) -> list[StepTime]:
    """Per waiting level: how many waits, their average and longest working days, how many were overdue."""
    of = list(of)
    out = []
    for level in WAITING_LEVELS:
        days = [w.working_days for w in of if w.level == level]
        out.append(StepTime(level=level, waits=len(days), average_working_days=average(days),
                            max_working_days=max(days) if days else None,
                            overdue=sum(1 for w in of if w.level == level and w.overdue)))
    return out


@dataclass(frozen=True)
class AlertTally:
    """How many of a district's alerts stood at a level and status at the cut-off."""

    level: str
    status: str
    count: int


def standing(steps: Iterable[Step], until: datetime) -> list[AlertTally]:
    """The alerts by the level and status of their last step before `until`."""
    last: dict[str, Step] = {}
    for s in steps:
        if s.at < until and (s.alert_id not in last or s.at >= last[s.alert_id].at):
            last[s.alert_id] = s
    counts: dict[tuple[str, str], int] = {}
    for s in last.values():
        counts[(s.level, s.status)] = counts.get((s.level, s.status), 0) + 1
    return [AlertTally(level, status, n) for (level, status), n in sorted(counts.items())]


def raised_between(steps: Iterable[Step], start: datetime, until: datetime) -> int:
    """Alerts whose first step (their raising) falls in [start, until)."""
    first: dict[str, datetime] = {}
    for s in steps:
        first[s.alert_id] = min(first.get(s.alert_id, s.at), s.at)
    return sum(1 for at in first.values() if start <= at < until)


def talks(steps: Iterable[Step], start: datetime, until: datetime) -> int:
    """Disposal sheets of [start, until) that name 约谈 among their measures."""
    return sum(1 for s in steps if start <= s.at < until and TALK in s.measures)
