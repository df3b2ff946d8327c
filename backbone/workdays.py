"""Working-day calendar of the Chinese mainland (工作日), for deadlines counted in working days.

The State Council's yearly arrangement (法定节假日 plus 调休 make-up working days) comes from
`chinesecalendar`. For a year it does not cover, the calendar falls back to weekends off plus
the statutory holidays of `holidays.China`, and warns once per year: a deadline then may be off
by a 调休 day. An override file (JSON, see `load_overrides`) corrects either source and marks
its years as published, e.g. once the State Council publishes a year that `chinesecalendar` lacks.
"""

import calendar
import json
import os
import re
import warnings
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
import holidays

SHANGHAI = ZoneInfo("Asia/Shanghai")
BUNDLED_OVERRIDES = Path(__file__).with_name("workdays_overrides.json")
OVERRIDES_ENV = "FUNDWATCH_WORKDAY_OVERRIDES"

# The package's own bounds: outside them its functions raise NotImplementedError.
_OFFICIAL_YEARS = range(
    min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1
)
_ONE_DAY = timedelta(days=1)
# A reporting period of a fiscal year: a month (2026-06), a quarter (2026-Q2) or a half (2026-H1, 双监控).
PERIOD = re.compile(r"^(?P<year>\d{4})-(?:(?P<month>0[1-9]|1[0-2])|Q(?P<quarter>[1-4])|H(?P<half>[12]))$")


class UnpublishedHolidayArrangement(UserWarning):
    """A year without an official arrangement (放假安排) was used; 调休 days may be missing."""


def load_overrides(path: Path) -> tuple[set[int], dict[date, bool]]:
    """Read an override file into (published years, date -> is working day).

    Shape: ``{"2027": {"holidays": ["2027-02-05", ...], "workdays": ["2027-02-14", ...],
    "source": "国务院办公厅关于2027年部分节假日安排的通知"}}``. A date may lie outside its key's
    year (New Year's 调休 often falls in December); "source" is free text for reviewers.
    """
    raw = json.loads(path.read_text(encoding="utf-8"))
    published: set[int] = set()
    overrides: dict[date, bool] = {}
    for year, entry in raw.items():
        published.add(int(year))
        for key, is_workday in (("holidays", False), ("workdays", True)):
            for text in entry.get(key, []):
                day = date.fromisoformat(text)
                if overrides.get(day, is_workday) != is_workday:
                    raise ValueError(f"{path}: {day} is listed both as holiday and as workday")
                overrides[day] = is_workday
    return published, overrides


class WorkdayCalendar:
    """Working days of the Chinese mainland: Monday–Friday unless a holiday, plus 调休 weekends."""

    def __init__(self, overrides_path: Path | None = None) -> None:
        self._published, self._overrides = (
            load_overrides(overrides_path) if overrides_path else (set(), {})
        )
        # Per year, the dates whose status differs from Monday–Friday (holidays on weekdays,
        # 调休 weekends): one set lookup per date instead of a library call.
        self._exceptions: dict[int, frozenset[date]] = {}

    def is_published(self, year: int) -> bool:
        """Whether the year's official arrangement is known (from `chinesecalendar` or overrides)."""
        return year in _OFFICIAL_YEARS or year in self._published

    def is_workday(self, d: date) -> bool:
        """Whether ``d`` is a working day (工作日), 调休 weekends included."""
        exceptions = self._exceptions.get(d.year)
        if exceptions is None:
            exceptions = self._exceptions[d.year] = self._build_year(d.year)
        return (d.weekday() < 5) != (d in exceptions)

    def add_workdays(self, d: date, n: int) -> date:
        """The n-th working day after ``d`` (not counted); n=0 gives ``d`` if a working day, else the next one."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        if n == 0:
            while not self.is_workday(d):
                d += _ONE_DAY
            return d
        while n:
            d += _ONE_DAY
            n -= self.is_workday(d)
        return d

    def sub_workdays(self, d: date, n: int) -> date:
        """The n-th working day before ``d`` (not counted): when a bell rings n working days ahead of ``d``."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        while n:
            d -= _ONE_DAY
            n -= self.is_workday(d)
        return d

    def workdays_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end``; 0 if ``end <= start``."""
        count = 0
        while start < end:
            start += _ONE_DAY
            count += self.is_workday(start)
        return count

    def deadline(self, start: datetime | date, workdays: int) -> datetime:
        """End (23:59:59.999999 Asia/Shanghai) of ``add_workdays(start, workdays)``; naive means Beijing time."""
        if isinstance(start, datetime):
            start = (start.astimezone(SHANGHAI) if start.tzinfo else start).date()
        return datetime.combine(self.add_workdays(start, workdays), time.max, tzinfo=SHANGHAI)

    def _build_year(self, year: int) -> frozenset[date]:
        """The dates of ``year`` whose status is not the Monday–Friday default."""
        first = date(year, 1, 1)
        days = [first + timedelta(days=i) for i in range((date(year, 12, 31) - first).days + 1)]
        if year in _OFFICIAL_YEARS:
            status = {d: chinese_calendar.is_workday(d) for d in days}
        else:
            if year not in self._published:
                warnings.warn(
                    f"no official holiday arrangement for {year}: using weekends and the "
                    "statutory holidays of holidays.China, 调休 working days may be missing",
                    UnpublishedHolidayArrangement,
                )
            # is_working_day also honours the 调休 weekends `holidays` knows (e.g. 2000–2003).
            fallback = holidays.China(years=year)
            status = {d: fallback.is_working_day(d) for d in days}
        status.update((d, w) for d, w in self._overrides.items() if d.year == year)
        return frozenset(d for d, is_workday in status.items() if is_workday != (d.weekday() < 5))


def year_progress(day: date) -> Decimal:
    """序时进度: the share of the (calendar) fiscal year gone by at the end of ``day``, to four places."""
    days = (date(day.year + 1, 1, 1) - date(day.year, 1, 1)).days
    return (Decimal((day - date(day.year, 1, 1)).days + 1) / days).quantize(Decimal("0.0001"))


def period_end(period: str) -> date:
    """The last day of a reporting period written as 2026-06, 2026-Q2 or 2026-H1; ValueError otherwise."""
    found = PERIOD.match(period)
    if found is None:
        raise ValueError("expected a period like 2026-06, 2026-Q2 or 2026-H1")
    year = int(found["year"])
    month = (int(found["month"]) if found["month"] else int(found["quarter"]) * 3 if found["quarter"]
             else int(found["half"]) * 6)
    return date(year, month, calendar.monthrange(year, month)[1])


@lru_cache(maxsize=1)
def default_calendar() -> WorkdayCalendar:
    """The process-wide calendar, with overrides from $FUNDWATCH_WORKDAY_OVERRIDES or the bundled file."""
    return WorkdayCalendar(Path(os.environ.get(OVERRIDES_ENV) or BUNDLED_OVERRIDES))
