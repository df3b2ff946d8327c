"""The monthly report's figures (月报, 第二十四条) as arithmetic (the month itself is `backbone.months`): each district's and
each fund's money from the sums the read model hands over, the alerts' summary, the measures taken per district, and
which divisions a city report still lacks. Pure: no I/O, no clock."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from backbone.months import Month
from backbone.workdays import SHANGHAI, WorkdayCalendar, year_progress
from contracts.province import (AlertSummary, DistrictMeasures, DistrictMonth, DivisionPart, FundFigures, OpenAlert,
                                RaisedCount)
from contracts.values import CITY_ORG_UNIT, DIVISIONS, ORG_UNITS, AlertLevel
from services.sync.domain import FundSums, fund_figures, total

@dataclass(frozen=True)
class MoneyRow:
    """What the read model sums for a district's fund up to the month's end, by kind of movement."""

    org_unit: str
    fund_name: str
    kind: str  # received, allocated, paid, refunded
    amount: Decimal


def money(rows: Iterable[MoneyRow]) -> tuple[list[DistrictMonth], list[FundFigures], FundFigures]:
    """Each district's funds and totals, each fund over every district, and the whole: per fund and per district."""
    by_district: dict[str, dict[str, dict[str, Decimal]]] = {}
    for r in rows:
        fund = by_district.setdefault(r.org_unit, {}).setdefault(r.fund_name, {})
        fund[r.kind] = fund.get(r.kind, Decimal("0.00")) + r.amount
    districts = []
    every: dict[str, list[FundSums]] = {}
    for org_unit in sorted(by_district):
        sums = [FundSums(name, **parts) for name, parts in sorted(by_district[org_unit].items())]
        for s in sums:
            every.setdefault(s.fund_name, []).append(s)
        districts.append(DistrictMonth(org_unit=org_unit, org_unit_name=ORG_UNITS.get(org_unit, org_unit),
                                       funds=[fund_figures(s) for s in sums], totals=fund_figures(total(sums))))
    funds = [fund_figures(_named(name, total(parts))) for name, parts in sorted(every.items())]
    whole = total(s for parts in every.values() for s in parts)
    return districts, funds, fund_figures(whole)


def _named(name: str, sums: FundSums) -> FundSums:
    return FundSums(name, sums.received, sums.allocated, sums.paid, sums.refunded)


def time_progress(month: Month):
    """序时进度 at the month's end."""
    return year_progress(month.last_day)


@dataclass(frozen=True)
class AlertFact:
    """An alert as the month's end finds it: its raising, and where it stands then."""

    alert_id: str
    rule_number: str
    org_unit: str | None
    raised_at: datetime
    level: AlertLevel
    status: str


def alert_summary(month: Month, alerts: Iterable[AlertFact], green: int, red: int,
                  calendar: WorkdayCalendar) -> AlertSummary:
    """Raised during the month by level and rule, handled green and red during it, and still open at its end with
    the working days they have been open."""
    alerts = list(alerts)
    raised: dict[tuple[AlertLevel, str], int] = {}
    for a in alerts:
        if month.start <= a.raised_at < month.end:
            raised[(a.level, a.rule_number)] = raised.get((a.level, a.rule_number), 0) + 1
    still_open = [OpenAlert(alert_id=a.alert_id, level=a.level, rule_number=a.rule_number, org_unit=a.org_unit,
                            working_days=calendar.workdays_between(a.raised_at.astimezone(SHANGHAI).date(),
                                                                   month.last_day))
                  for a in sorted(alerts, key=lambda a: (a.raised_at, a.alert_id)) if a.status == "open"]
    return AlertSummary(raised=[RaisedCount(level=level, rule_number=rule, count=n)
                                for (level, rule), n in sorted(raised.items())],
                        handled_green=green, handled_red=red, still_open=still_open)


@dataclass(frozen=True)
class MeasureFact:
    """A measure taken in the month on an alert: its kind and district, and for a recovery what the ledger withdrew
    and what was short."""

    kind: str  # recovery, suspension, referral, circular
    org_unit: str | None
    withdrawn: Decimal | None = None
    shortfall: Decimal | None = None


COUNTED = {"recovery": "recoveries", "suspension": "suspensions", "referral": "referrals", "circular": "circulars"}


def district_measures(facts: Iterable[MeasureFact]) -> list[DistrictMeasures]:
    """The measures taken per district (第二十二条(三)): how many of each, and the money a recovery brought back and
    fell short of; an alert that names no district counts as the city's (220100)."""
    found: dict[str, dict[str, Any]] = {}
    zero = Decimal("0.00")
    for f in facts:
        org_unit = f.org_unit or CITY_ORG_UNIT
        row = found.setdefault(org_unit, dict.fromkeys(COUNTED.values(), 0) | {"recovered": zero, "short": zero})
        row[COUNTED[f.kind]] += 1
        row["recovered"] += f.withdrawn or zero
        row["short"] += f.shortfall or zero
    return [DistrictMeasures(org_unit=o, org_unit_name=ORG_UNITS.get(o, o), **found[o]) for o in sorted(found)]


@dataclass(frozen=True)
class SubmittedReport:
    """A division's report the city report may take in."""

    report_id: str
    division: str
    version: int
    totals: FundFigures
    analysis: str | None


def missing_divisions(required: Iterable[str], submitted: Iterable[str], without: Mapping[str, str]) -> list[str]:
    """The divisions whose report the city report still lacks, with no reason recorded to go without it."""
    have = set(submitted) | set(without)
    return sorted(d for d in set(required) if d not in have)


def division_parts(required: Iterable[str], submitted: Iterable[SubmittedReport],
                   without: Mapping[str, str]) -> list[DivisionPart]:
    """The city report's part of each division: its report, or the treasury's reason to go without it."""
    reports = {r.division: r for r in submitted}
    parts = []
    for division in sorted(set(required) | set(reports) | set(without)):
        r = reports.get(division)
        parts.append(DivisionPart(
            division=division, division_name=DIVISIONS.get(division, division),
            report_id=r.report_id if r else None, version=r.version if r else None, totals=r.totals if r else None,
            analysis=r.analysis if r else None, without_reason=None if r else without.get(division)))
    return parts
