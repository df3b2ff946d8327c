"""The one clock of FundWatch's calendar: what day and time it is for registration dates, deadlines, months and
fiscal years (Asia/Shanghai for anything counted in days).

Every process reads business time here, never `date.today()` or `datetime.now()`. In production it is the wall
clock. A development stack (the test suite) may shift it by a fixed offset, `FUNDWATCH_CLOCK_OFFSET_SECONDS`,
shared by all its processes: time still passes, but the suite lives on the same day whatever today's date is, so
a month end or a new year cannot change what it sees. Security timers (tokens, sessions, lockouts, second-factor
codes) measure elapsed time and stay on the wall clock, where the libraries that check them look.
"""

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from backbone.workdays import SHANGHAI


class Clock:
    """Wall-clock time, shifted by a fixed offset (zero outside development)."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self.offset = offset

    def now(self) -> datetime:
        """The current instant, in UTC."""
        return datetime.now(UTC) + self.offset

    def local_now(self) -> datetime:
        """The current instant in Beijing time."""
        return self.now().astimezone(SHANGHAI)

    def today(self) -> date:
        """Today in Beijing: the day deadlines and registration dates count from."""
        return self.local_now().date()

    @staticmethod
    def offset_to(instant: datetime) -> timedelta:
        """The offset that makes the clock read `instant` now (what a test stack passes to its processes)."""
        return instant - datetime.now(UTC)


@lru_cache
def clock() -> Clock:
    """The process's clock, from its settings."""
    from backbone.settings import get_settings

    return Clock(timedelta(seconds=get_settings().clock_offset_seconds))
