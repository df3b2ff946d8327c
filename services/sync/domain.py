"""The daily rollup (日报, 第二十六条(二)) as arithmetic: what a district's day adds up to, from the sums its read
model hands over. Pure: no I/O, no clock."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from contracts.province import AlertCount, DistrictFigures, FilingCount, FundFigures
from contracts.values import CITY_ORG_UNIT, ORG_UNITS, AlertLevel, AlertStatus

ZERO = Decimal("0.00")
SHARE = Decimal("0.0001")
TOTAL = "合计"
# The districts and development zones (区、开发区) whose day is rolled up: every org unit but the city's own.
DISTRICTS: tuple[str, ...] = tuple(code for code in ORG_UNITS if code != CITY_ORG_UNIT)


@dataclass(frozen=True)
class FundSums:
    """What the read model sums for one fund of a district up to a day's end."""

    fund_name: str
    received: Decimal = ZERO
    allocated: Decimal = ZERO
    paid: Decimal = ZERO
    refunded: Decimal = ZERO


def day_rolled_up(today: date) -> date:
    """The day the rollup made today covers: yesterday, which ended at midnight Beijing time."""
    return today - timedelta(days=1)


def payment_progress(received: Decimal, paid: Decimal, refunded: Decimal) -> Decimal | None:
    """支付进度: what was paid and stayed paid, over what was received; None when nothing was received."""
    if received <= 0:
        return None
    return ((paid - refunded) / received).quantize(SHARE, rounding=ROUND_HALF_UP)


def fund_figures(sums: FundSums) -> FundFigures:
    """A fund's figures: its sums, what is still available, and its payment progress."""
    return FundFigures(
        fund_name=sums.fund_name, received=sums.received, allocated=sums.allocated, paid=sums.paid,
        refunded=sums.refunded, available=sums.received - sums.allocated - sums.paid + sums.refunded,
        payment_progress=payment_progress(sums.received, sums.paid, sums.refunded))


def total(funds: Iterable[FundSums]) -> FundSums:
    """Every fund of a district together."""
    funds = list(funds)
    return FundSums(TOTAL, *(sum((getattr(f, part) for f in funds), ZERO)
                             for part in ("received", "allocated", "paid", "refunded")))


def district_figures(org_unit: str, fiscal_year: int, funds: Iterable[FundSums],
                     alerts: Iterable[tuple[str, str, int]], filings: Iterable[tuple[str, str, int]]
                     ) -> DistrictFigures:
    """A district's day: each fund by name, the totals, its alerts by level and status, its filings by status."""
    funds = sorted(funds, key=lambda f: f.fund_name)
    return DistrictFigures(
        org_unit=org_unit, org_unit_name=ORG_UNITS.get(org_unit, org_unit), fiscal_year=fiscal_year,
        funds=[fund_figures(f) for f in funds], totals=fund_figures(total(funds)),
        alerts=[AlertCount(level=AlertLevel(level), status=AlertStatus(status), count=n)
                for level, status, n in sorted(alerts) if n],
        filings=[FilingCount(filing=filing, status=status, count=n) for filing, status, n in sorted(filings) if n])


def same_numbers(previous: DistrictFigures | None, current: DistrictFigures) -> bool:
    """Whether a re-run found what the latest version says (then it makes no new version)."""
    return previous is not None and previous == current
