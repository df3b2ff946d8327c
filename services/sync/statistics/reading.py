"""What the district statistics read from sync's read model: the districts' money as of the cut-off, the
allocations and filings of the month, the steps of their alerts, and the circulars against them."""

from collections.abc import Collection
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select, union
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from backbone.workdays import SHANGHAI
from services.sync.domain import DISTRICTS
from services.sync.projections import alert_steps, filing_steps, indicators, measures_taken, movements
from services.sync.statistics.domain import Allocation, Filing, MoneySums, MonthFacts
from services.sync.statistics.steps import Step


def _day(at: datetime) -> date:
    return at.astimezone(SHANGHAI).date()


def _last_day(until: datetime) -> date:
    """The last day (Beijing) before the cut-off: a month's end is the next month's first instant."""
    return _day(until - timedelta(microseconds=1))


async def month_facts(conn: AsyncConnection, fiscal_year: int, start: datetime, until: datetime,
                      org_units: Collection[str], division: str | None, *, with_city: bool) -> MonthFacts:
    """The facts of [start, until) for `org_units` (of `division`'s funds only, when one is given), and the steps
    of the city's own alerts too when `with_city`."""
    return MonthFacts(money=await _money(conn, fiscal_year, until, org_units, division),
                      allocations=await _allocations(conn, start, until, org_units, division),
                      filings=await _filings(conn, start, until, org_units, division),
                      steps=await _steps(conn, start, until, org_units, division, with_city),
                      circulars=await _circulars(conn, start, until, org_units, division))


def _of(table: Any, division: str | None) -> list[Any]:
    return [] if division is None else [table.c.owner_division == division]


async def _money(conn: AsyncConnection, fiscal_year: int, until: datetime,
                 org_units: Collection[str], division: str | None) -> dict[str, MoneySums]:
    m, i = movements, indicators
    sums: dict[str, dict[str, object]] = {}
    for row in await conn.execute(
            select(i.c.org_unit, m.c.kind, func.sum(m.c.amount).label("amount"))
            .select_from(m.join(i, m.c.indicator_id == i.c.indicator_id))
            .where(m.c.on_date <= _last_day(until), i.c.fiscal_year == fiscal_year, i.c.org_unit.in_(org_units),
                   *_of(i, division))
            .group_by(i.c.org_unit, m.c.kind)):
        sums.setdefault(row.org_unit, {})[row.kind] = row.amount
    return {org_unit: MoneySums(**parts) for org_unit, parts in sums.items()}  # type: ignore[arg-type]


async def _allocations(conn: AsyncConnection, start: datetime, until: datetime,
                       org_units: Collection[str], division: str | None) -> list[Allocation]:
    """Each child registered in the period under a parent of one of `org_units`: the parent's org unit allocated."""
    parent, child = aliased(indicators), aliased(indicators)
    rows = await conn.execute(
        select(parent.c.org_unit, func.coalesce(parent.c.received_on, parent.c.registered_on).label("received_on"),
               child.c.registered_on)
        .select_from(child.join(parent, parent.c.indicator_id == child.c.parent_id))
        .where(parent.c.org_unit.in_(org_units), child.c.registered_on >= _day(start),
               child.c.registered_on <= _last_day(until), parent.c.registered_on.isnot(None),
               *_of(parent, division)))
    return [Allocation(r.org_unit, r.received_on, r.registered_on) for r in rows]


async def _filings(conn: AsyncConnection, start: datetime, until: datetime,
                   org_units: Collection[str], division: str | None) -> list[Filing]:
    """Goals and execution reports first filed in the period, with the day their time counts from."""
    f, i = filing_steps, indicators
    first = (select(f.c.filing_id, f.c.filing, f.c.org_unit, f.c.indicator_id, f.c.period_end, f.c.at)
             .where(f.c.status == "filed", f.c.filing.in_(("goals", "report")), f.c.org_unit.in_(org_units),
                    *_of(f, division))
             .distinct(f.c.filing_id).order_by(f.c.filing_id, f.c.at).subquery())
    rows = await conn.execute(
        select(first, func.coalesce(i.c.issued_on, i.c.registered_on).label("issued_on"))
        .select_from(first.outerjoin(i, i.c.indicator_id == first.c.indicator_id))
        .where(and_(first.c.at >= start, first.c.at < until)))
    return [Filing(r.org_unit, r.filing, r.issued_on if r.filing == "goals" else r.period_end, _day(r.at))
            for r in rows]


async def _steps(conn: AsyncConnection, start: datetime, until: datetime, org_units: Collection[str],
                 division: str | None, with_city: bool) -> list[Step]:
    """The steps of the period's alerts: those with a step in it, and those still open when it began (an alert
    closed before it is not the period's)."""
    a = alert_steps
    whose = a.c.org_unit.in_(org_units)
    if with_city:
        whose = whose | a.c.org_unit.is_(None) | a.c.org_unit.notin_(DISTRICTS)
    last_before = (select(a.c.alert_id, a.c.status).where(a.c.at < start).distinct(a.c.alert_id)
                   .order_by(a.c.alert_id, a.c.at.desc()).subquery())
    period = union(select(a.c.alert_id).where(a.c.at >= start, a.c.at < until),
                   select(last_before.c.alert_id).where(last_before.c.status == "open"))
    rows = await conn.execute(select(a.c.alert_id, a.c.org_unit, a.c.owner_division, a.c.level, a.c.status, a.c.at,
                                     a.c.measures).where(a.c.at < until, a.c.alert_id.in_(period), whose,
                                                         *_of(a, division)))
    return [Step(r.alert_id, r.org_unit, r.owner_division, r.level, r.status, r.at, tuple(r.measures or ()))
            for r in rows]


async def _circulars(conn: AsyncConnection, start: datetime, until: datetime,
                     org_units: Collection[str], division: str | None) -> dict[str, int]:
    c = measures_taken
    rows = await conn.execute(select(c.c.org_unit, func.count()).where(
        c.c.kind == "circular", c.c.against == "district", c.c.org_unit.in_(org_units), c.c.at >= start, c.c.at < until,
        *_of(c, division)).group_by(c.c.org_unit))
    return {org_unit: n for org_unit, n in rows}
