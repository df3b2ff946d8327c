"""The daily rollup (日报, 第二十六条(二)): after midnight Beijing time each district's day is added up from sync's
read model, stored once per day and district as an event, and queued for the province. A re-run of a day makes
a new version only for the districts whose numbers changed (a late correction)."""

import asyncio
from datetime import date, datetime, time, timedelta
from typing import Any

import structlog
from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.clock import clock
from backbone.eventstore import EventStore
from backbone.service import Runtime
from backbone.settings import Settings
from backbone.workdays import SHANGHAI
from contracts.province import DailyRollup, DistrictFigures, MessageKind
from contracts.sync import RollupComputed
from contracts.values import CITY_ORG_UNIT
from services.sync.domain import DISTRICTS, FundSums, day_rolled_up, district_figures, same_numbers
from services.sync.exchange.outbound import enqueue
from services.sync.projections import alert_steps, filing_steps, indicators, movements, rollups

log = structlog.get_logger(__name__)
ACTOR = "system:sync"


async def figures_of_day(conn: AsyncConnection, day: date) -> dict[str, DistrictFigures]:
    """Every district's figures as they stood at the end of `day`, for the fiscal year of that day."""
    end = datetime.combine(day + timedelta(days=1), time(0), SHANGHAI)
    m, i = movements, indicators
    money: dict[str, dict[str, dict[str, Any]]] = {}
    for row in await conn.execute(
            select(i.c.org_unit, i.c.fund_name, m.c.kind, func.sum(m.c.amount).label("amount"))
            .select_from(m.join(i, m.c.indicator_id == i.c.indicator_id))
            .where(m.c.on_date <= day, i.c.fiscal_year == day.year, i.c.org_unit.in_(DISTRICTS))
            .group_by(i.c.org_unit, i.c.fund_name, m.c.kind)):
        money.setdefault(row.org_unit, {}).setdefault(row.fund_name, {})[row.kind] = row.amount
    alerts = await _standing(conn, alert_steps, alert_steps.c.alert_id, (alert_steps.c.level, alert_steps.c.status),
                             alert_steps.c.at < end)
    filings = await _standing(conn, filing_steps, filing_steps.c.filing_id,
                              (filing_steps.c.filing, filing_steps.c.status),
                              and_(filing_steps.c.at < end, filing_steps.c.fiscal_year == day.year))
    return {org_unit: district_figures(
        org_unit, day.year, [FundSums(name, **sums) for name, sums in money.get(org_unit, {}).items()],
        alerts.get(org_unit, []), filings.get(org_unit, [])) for org_unit in DISTRICTS}


async def _standing(conn: AsyncConnection, table: Any, key: Any, parts: tuple[Any, Any], when: Any
                    ) -> dict[str, list[tuple[str, str, int]]]:
    """How many things (alerts, filings) stood at each pair of `parts` after their last step `when`, by org unit."""
    last = (select(table.c.org_unit, *parts).where(when).distinct(key).order_by(key, table.c.at.desc())
            .subquery())
    out: dict[str, list[tuple[str, str, int]]] = {}
    for row in await conn.execute(select(last.c.org_unit, *(last.c[p.key] for p in parts), func.count())
                                  .group_by(last.c.org_unit, *(last.c[p.key] for p in parts))):
        out.setdefault(row[0], []).append((row[1], row[2], row[3]))
    return out


async def roll_up(conn: AsyncConnection, store: EventStore, settings: Settings, day: date, *, reason: str,
                  actor: str = ACTOR) -> list[RollupComputed]:
    """Roll `day` up for every district: the first version of each (the daily run makes nothing else), or, on a
    re-run, a new version where the numbers changed. Returns what was made."""
    await conn.execute(select(func.pg_advisory_xact_lock(func.hashtext("sync.rollups"))))
    latest = {r.org_unit: r for r in await conn.execute(
        select(rollups).where(rollups.c.rollup_date == day, rollups.c.latest))}
    if reason == "daily" and latest.keys() >= set(DISTRICTS):
        return []
    now = clock().now()
    made = []
    for org_unit, figures in (await figures_of_day(conn, day)).items():
        previous = latest.get(org_unit)
        if previous is not None and (reason == "daily" or same_numbers(
                DistrictFigures.model_validate(previous.figures), figures)):
            continue
        version = previous.version + 1 if previous else 1
        payload = DailyRollup(city=CITY_ORG_UNIT, rollup_date=day, version=version, computed_at=now, figures=figures)
        message_id = await enqueue(conn, MessageKind.DAILY_ROLLUP, f"{day}/{org_unit}/v{version}", payload, settings,
                                   now)
        event = RollupComputed(rollup_date=day, org_unit=org_unit, version=version, figures=figures, reason=reason,
                               computed_at=now, message_id=message_id)
        await store.append(conn, stream_id=f"rollup-{day}-{org_unit}", stream_type="rollup",
                           expected_version=version - 1, events=[event],
                           meta=store.metadata(actor=actor, org_unit=org_unit))
        made.append(event)
    if made:
        log.info("rollup.made", day=str(day), reason=reason, districts=len(made))
    return made


def caught_up(runtime: Runtime) -> bool:
    """Whether sync's consumers have applied what they know the topics hold (what they fetched last)."""
    return not any(behind for runner in runtime.runners for behind in runner.lag().values())


async def run(runtime: Runtime) -> None:
    """The daily loop: once yesterday (Beijing) is over and the consumers have caught up, roll it up. Every
    replica may run it: the advisory lock in `roll_up` lets one at a time through, and the others find it made."""
    while True:
        if caught_up(runtime):
            async with runtime.engine.begin() as conn:
                await roll_up(conn, runtime.store, runtime.settings, day_rolled_up(clock().today()), reason="daily")
        await asyncio.sleep(runtime.settings.scheduler_seconds)
