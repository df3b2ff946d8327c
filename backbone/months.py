"""A calendar month as Beijing counts it (2026-11): its days and its bounds, for the monthly report, the district
statistics and the platform's use. Pure: no I/O, no clock."""

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Annotated

from fastapi import Query

from backbone.errors import InvalidInput, fault
from backbone.workdays import SHANGHAI

MONTH = re.compile(r"^(?P<year>\d{4})-(?P<month>0[1-9]|1[0-2])$")
# A month asked in a query (`?month=2026-11`); `month_asked` then refuses one that has not begun.
MonthQuery = Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-11"],
                                  description="The month (Beijing), YYYY-MM; the current one counts until now.")]


@dataclass(frozen=True)
class Month:
    """A calendar month of a fiscal year, as Beijing counts it."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> "Month":
        """2026-11 → Month(2026, 11); ValueError for anything else."""
        found = MONTH.match(text)
        if found is None:
            raise ValueError("expected a month like 2026-11")
        return cls(int(found["year"]), int(found["month"]))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def next_first_day(self) -> date:
        return date(self.year + self.month // 12, self.month % 12 + 1, 1)

    @property
    def last_day(self) -> date:
        return date.fromordinal(self.next_first_day.toordinal() - 1)

    @property
    def start(self) -> datetime:
        """The month's first instant (Beijing)."""
        return datetime.combine(self.first_day, time(0), SHANGHAI)

    @property
    def end(self) -> datetime:
        """The first instant after the month (Beijing): the report counts what happened before it."""
        return datetime.combine(self.next_first_day, time(0), SHANGHAI)

    def over_by(self, now: datetime) -> bool:
        """Whether the month has ended at `now`."""
        return now >= self.end


FIRST_YEAR = 2000  # the platform's first fiscal year (contracts.values.FiscalYear)


def month_asked(text: str, now: datetime, field: str = "query.month") -> Month:
    """The month a query asks for: in the platform's years, and begun by `now`; a 422 naming `field` otherwise."""
    try:
        month = Month.parse(text)
    except ValueError as exc:
        raise InvalidInput(f"{text!r} is no month", errors=[fault(field, str(exc))]) from exc
    if month.year < FIRST_YEAR:
        raise InvalidInput(f"{text} is before the platform's fiscal years",
                           errors=[fault(field, f"must be in {FIRST_YEAR} or later")])
    if month.start > now:
        raise InvalidInput(f"{text} has not begun yet (Beijing)",
                           errors=[fault(field, "must not be after the current month")])
    return month
