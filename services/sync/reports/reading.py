"""What a monthly report reads from sync's read model (月报, 第二十四条): a division's month, or the whole city's,
as of the month's last instant (Beijing)."""

from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.workdays import default_calendar
from contracts.province import (DisposalSummary, MeasureCount, MonthFigures, PerformanceSummary, SuspiciousItem)
from contracts.values import AlertAction, AlertLevel, AlertStatus
from services.sync.projections import alert_steps, filing_steps, indicators, measures_taken, movements
from services.sync.reports.figures import (AlertFact, MeasureFact, Month, MoneyRow, alert_summary, district_measures,
                                           money, time_progress)

ZERO = Decimal("0.00")


def _of(table: Any, division: str | None) -> list[Any]:
    return [] if division is None else [table.c.owner_division == division]


async def month_figures(conn: AsyncConnection, month: Month, division: str | None) -> MonthFigures:
    """The month of `division`'s funds (a division report), or of every fund (None: the city report)."""
    m, i, a = movements, indicators, alert_steps
    rows = await conn.execute(
        select(i.c.org_unit, i.c.fund_name, m.c.kind, func.sum(m.c.amount).label("amount"))
        .select_from(m.join(i, m.c.indicator_id == i.c.indicator_id))
        .where(m.c.on_date <= month.last_day, i.c.fiscal_year == month.year, *_of(i, division))
        .group_by(i.c.org_unit, i.c.fund_name, m.c.kind))
    districts, funds, totals = money(MoneyRow(r.org_unit, r.fund_name, r.kind, r.amount) for r in rows)
    before_end = a.c.at < month.end
    in_month = and_(a.c.at >= month.start, before_end)
    # An alert's first step is its raising: the rule, the routing and the instant it counts from.
    raised = (select(a.c.alert_id, a.c.rule_number, a.c.org_unit, a.c.owner_division, a.c.at.label("raised_at"))
              .where(before_end, *_of(a, division)).distinct(a.c.alert_id).order_by(a.c.alert_id, a.c.at)
              ).subquery()
    last = (select(a.c.alert_id, a.c.level, a.c.status).where(before_end).distinct(a.c.alert_id)
            .order_by(a.c.alert_id, a.c.at.desc())).subquery()
    verified = (select(a.c.alert_id, a.c.result, a.c.method).where(before_end, a.c.result.isnot(None))
                .distinct(a.c.alert_id).order_by(a.c.alert_id, a.c.at.desc())).subquery()
    facts = (await conn.execute(
        select(raised, last.c.level, last.c.status, verified.c.result, verified.c.method)
        .join(last, last.c.alert_id == raised.c.alert_id)
        .outerjoin(verified, verified.c.alert_id == raised.c.alert_id))).all()
    steps = (await conn.execute(select(a.c.action, a.c.status, a.c.returned_amount, a.c.measures)
                                .where(in_month, a.c.action.isnot(None), *_of(a, division)))).all()
    # The bureau's concurrence with a suspicious item's verification (concur) leaves a green alert green.
    green = sum(1 for s in steps if s.status == AlertStatus.GREEN and s.action != AlertAction.CONCUR)
    red = sum(1 for s in steps if s.action == "confirm_violation")
    measures: dict[str, int] = {}
    for s in steps:
        for measure in s.measures or []:
            measures[measure] = measures.get(measure, 0) + 1
    return MonthFigures(
        as_of=month.end, time_progress=time_progress(month), districts=districts, funds=funds, totals=totals,
        alerts=alert_summary(month, [AlertFact(f.alert_id, f.rule_number or "", f.org_unit, f.raised_at,
                                               AlertLevel(f.level), f.status) for f in facts],
                             green, red, default_calendar()),
        disposals=DisposalSummary(violations_confirmed=red,
                                  recovered=sum((s.returned_amount or ZERO for s in steps), ZERO),
                                  measures=[MeasureCount(measure=k, count=n) for k, n in sorted(measures.items())]),
        performance=await _performance(conn, month, division),
        suspicious=[SuspiciousItem(alert_id=f.alert_id, rule_number=f.rule_number or "", level=AlertLevel(f.level),
                                   status=AlertStatus(f.status), org_unit=f.org_unit, owner_division=f.owner_division,
                                   result=f.result, method=f.method)
                    for f in sorted(facts, key=lambda f: (f.raised_at, f.alert_id))
                    if month.start <= f.raised_at and (f.level != AlertLevel.YELLOW_BELL or f.result is not None)],
        measures=district_measures(await _measures(conn, month, division)))


async def _measures(conn: AsyncConnection, month: Month, division: str | None) -> list[MeasureFact]:
    t = measures_taken.c
    rows = await conn.execute(select(t.kind, t.org_unit, t.withdrawn, t.shortfall)
                              .where(t.at >= month.start, t.at < month.end, *_of(measures_taken, division)))
    return [MeasureFact(r.kind, r.org_unit, r.withdrawn, r.shortfall) for r in rows]


async def _performance(conn: AsyncConnection, month: Month, division: str | None) -> PerformanceSummary:
    f = filing_steps
    row = (await conn.execute(
        select(func.count(func.distinct(f.c.filing_id)).filter(f.c.filing == "goals").label("goals"),
               func.count(func.distinct(f.c.filing_id)).filter(f.c.filing == "report").label("reports"),
               func.coalesce(func.sum(f.c.severe_count), 0).label("severe"))
        .where(f.c.status == "filed", f.c.at >= month.start, f.c.at < month.end, *_of(f, division)))).one()
    return PerformanceSummary(goals_set=row.goals, reports_filed=row.reports, severe_deviations=row.severe)


async def owning_divisions(conn: AsyncConnection, month: Month) -> list[str]:
    """The divisions that own (主管) funds of the month's fiscal year: each owes the treasury its report."""
    rows = await conn.execute(select(indicators.c.owner_division).distinct().where(
        indicators.c.fiscal_year == month.year, indicators.c.owner_division.isnot(None)))
    return sorted(r[0] for r in rows)
