"""Deadline clocks: started and met by events (consumers), rung and expired by time (the scheduler loop).

Each change of a clock and the alert event it causes are written in one transaction, under the
clock's row lock: a bell rings once and a deadline expires once, also when the process dies and
another takes over (rows are taken with SKIP LOCKED, so replicas share the work).
"""

import asyncio
import time
from datetime import date, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.clock import clock
from backbone.eventstore import EventStore, NewStream
from backbone.service import Runtime
from contracts.envelope import EventEnvelope
from backbone.workdays import SHANGHAI, default_calendar, year_progress
from contracts.alerting import MonthClosed, RuleCycleOpened
from contracts.values import CITY_ORG_UNIT, ORG_UNITS, AlertAction, AlertLevel
from services.alerting.deadlines import breach, meets, settled_ahead, start, starts
from services.alerting.projections import alerts, balances, watches
from services.alerting.raising import move, raise_or_update
from services.alerting.rules import Rule
from services.alerting.rules.engine import Breach, judge, month_facts
from services.alerting.rules.book import RULEBOOK, RuleBook

log = structlog.get_logger(__name__)
BATCH = 100
PROPOSE_BY, REPORT_BY = (10, 15), (11, 1)  # 第十五条, 第十六条
RULEBOOK_REFRESH_SECONDS = 30.0


async def on_event(conn: AsyncConnection, store: EventStore, rules: list[Rule], env: EventEnvelope) -> None:
    """Start the clocks an event starts and stop those it meets: a ringing bell clears itself, and so
    does a bell raised when its time ran out (a reminder, like LC-001's or JX-003's) once the work is done."""
    await on_events(conn, store, [(rules, env)])


async def on_events(conn: AsyncConnection, store: EventStore, events: list[tuple[list[Rule], EventEnvelope]]) -> None:
    """`on_event` for each event in order, under its rules. The clocks that consecutive events start are written
    in one statement, before anything reads a clock: a run of alerts raised (each starting its LC-001 clock) costs
    one insert, not one each, and no event meets a clock before the events ahead of it have started theirs."""
    calendar = default_calendar()
    now = clock().now()
    started: list[dict[str, Any]] = []

    async def write_started() -> None:
        if started:
            await conn.execute(pg_insert(watches).on_conflict_do_nothing(), started)
            started.clear()

    for rules, env in events:
        cause, payload = str(env.event_id), env.payload
        occurred_on = env.occurred_at.astimezone(SHANGHAI).date()
        for rule in rules:
            started += [{"watch_id": watch.watch_id, "rule_id": rule.id, "subject_id": watch.subject_id,
                         "state": "waiting", "counts_from": watch.counts_from, "bell_at": watch.bell_at,
                         "due_at": watch.due_at, "period": str(payload.get("fiscal_year") or watch.counts_from.year),
                         "org_unit": _org_unit(rule, payload), "owner_division": payload.get("owner_division"),
                         "facts": watch.facts, "started_at": now}
                        for watch in start(rule, env.event_type, payload, calendar, cause, occurred_on)]
            met = meets(rule, env.event_type, payload)
            if met is None:
                continue
            await write_started()
            await _meet(conn, store, rule, met, env, now)
    await write_started()


async def _meet(conn: AsyncConnection, store: EventStore, rule: Rule, met: tuple[str, date | None],
                env: EventEnvelope, now: datetime) -> None:
    """Stop the clocks of `rule` an event meets (or settle the one it meets ahead of its start)."""
    cause, payload = str(env.event_id), env.payload
    occurred_on = env.occurred_at.astimezone(SHANGHAI).date()
    subject, point = met
    which = [watches.c.rule_id == rule.id, watches.c.subject_id == subject,
             watches.c.state.in_(("waiting", "ringing", "expired"))]
    if point is not None:
        which.append(watches.c.counts_from == point)
    rows = (await conn.execute(select(watches).where(*which).with_for_update())).all()
    if not rows and (ahead := settled_ahead(rule, subject, point)):
        await conn.execute(pg_insert(watches).values(
            watch_id=ahead, rule_id=rule.id, subject_id=subject, state="met", counts_from=point or occurred_on,
            due_at=now, period=str(payload.get("fiscal_year") or occurred_on.year), org_unit=payload.get("org_unit"),
            owner_division=payload.get("owner_division"), facts={"met_by": cause}, started_at=now, settled_at=now,
        ).on_conflict_do_nothing())
    late_clears = rule.deadline.late_clears if rule.deadline else None
    for row in rows:
        if row.state == "expired" and not (row.alert_id and (rule.level is AlertLevel.YELLOW_BELL or late_clears)):
            continue  # late work does not undo a light
        if row.alert_id:
            await move(conn, store, row.alert_id, AlertAction.CLEAR, late_clears or (
                "期限内已办理" if row.state != "expired" else "已补办"), cause)
        await conn.execute(update(watches).where(watches.c.watch_id == row.watch_id)
                           .values(state="met", settled_at=now))


class AlertClocks:
    """Clocks on alerts themselves (LC-001), driven by alerting's own events as they are stored: an inline
    projection, so that a clock starts and stops in the transaction of the step it watches."""

    def __init__(self) -> None:
        self.store: EventStore | None = None

    async def attach(self, runtime: Runtime) -> None:
        self.store = runtime.store

    async def project(self, conn: AsyncConnection, envelopes: Any) -> None:
        if self.store is None:
            return
        rules = RULEBOOK.year()
        await on_events(conn, self.store, [(rules.deadline, env) for env in envelopes
                                           if env.event_type in rules.clocked])


async def on_run(conn: AsyncConnection, store: EventStore, envelopes: list[EventEnvelope]) -> None:
    """A run of events by the clocks, as `on_event` one by one, without asking again for a clock met or started
    already in this transaction: once met it is met (or, expired, passed over) the same way the next time, and its
    early settlement is there; once started (or found there) its row is there, and starting it again inserts
    nothing. The events that start another clock, or meet another, go through `on_events` together, in order."""
    met_here: set[tuple[str, str, date | None]] = set()
    started_here: set[str] = set()
    todo: list[tuple[list[Rule], EventEnvelope]] = []
    for env in envelopes:
        rules = RULEBOOK.year(env.payload.get("fiscal_year")).deadline
        occurred_on = env.occurred_at.astimezone(SHANGHAI).date()
        met = {(rule.id, *found) for rule in rules if (found := meets(rule, env.event_type, env.payload))}
        started = {(rule.id, s.watch_id(rule)) for rule in rules
                   for s in starts(rule, env.event_type, env.payload, env.event_id, occurred_on)}
        if met <= met_here and {watch_id for _, watch_id in started} <= started_here:
            continue
        todo.append((rules, env))
        # A clock started here may be waiting for a later event of the run: what its rule met before says nothing.
        restarted = {rule_id for rule_id, _ in started}
        met_here = {m for m in met_here if m[0] not in restarted} | met
        started_here |= {watch_id for _, watch_id in started}
    await on_events(conn, store, todo)


def _org_unit(rule: Rule, payload: dict[str, Any]) -> str | None:
    """The district an alert of the clock concerns: none for a division's own work (its monthly report), though
    the indicator that started the clock belongs to one."""
    return None if rule.subject == "division" else payload.get("org_unit")


async def tick(conn: AsyncConnection, store: EventStore, book: RuleBook, now: datetime) -> int:
    """Ring the bells and expire the deadlines that are due; returns how many clocks moved."""
    due = (await conn.execute(select(watches).where(or_(
        and_(watches.c.state == "waiting", watches.c.bell_at <= now),
        and_(watches.c.state.in_(("waiting", "ringing")), watches.c.due_at <= now)))
        .order_by(func.least(watches.c.bell_at, watches.c.due_at)).limit(BATCH)
        .with_for_update(skip_locked=True))).all()
    for row in due:
        rule = book.by_id(int(row.period[:4])).get(row.rule_id)
        if rule is None:
            # The rule is no longer in force: its clocks stop without a word.
            await conn.execute(update(watches).where(watches.c.watch_id == row.watch_id)
                               .values(state="met", settled_at=now))
            continue
        if row.due_at <= now:
            if row.state == "ringing" and row.alert_id:
                await move(conn, store, row.alert_id, AlertAction.ESCALATE, "工作时限已到期，未按期办理",
                           row.watch_id)
                alert_id = row.alert_id
            else:
                alert_id = await _raise(conn, store, rule, row, bell=False)
            state = "expired"
        else:
            alert_id = await _raise(conn, store, rule, row, bell=True)
            state = "ringing"
        await conn.execute(update(watches).where(watches.c.watch_id == row.watch_id)
                           .values(state=state, alert_id=alert_id, settled_at=now if state == "expired" else None))
    return len(due)


async def scheduling(conn: AsyncConnection) -> bool:
    """Whether this transaction is the one that schedules now: with several alerting processes one rings bells and
    closes months at a time, under a lock held until its transaction ends (the clocks' row locks and the streams'
    ids already keep each from happening twice; this keeps the others from doing the work to find it done)."""
    return bool(await conn.scalar(select(func.pg_try_advisory_xact_lock(func.hashtext("alerting.scheduler")))))


async def run(runtime: Runtime) -> None:
    """The scheduler loop of the alerting service; it also keeps the rule book fresh for this process. Every
    process of alerting runs it: `scheduling` lets one at a time through."""
    refreshed = 0.0
    while True:
        if time.monotonic() - refreshed > RULEBOOK_REFRESH_SECONDS:
            await RULEBOOK.refresh(runtime.engine)
            async with runtime.engine.begin() as conn:
                if await scheduling(conn):
                    await open_rule_cycle(conn, runtime.store, clock().today())
                    await close_month(conn, runtime.store, RULEBOOK, clock().today())
            refreshed = time.monotonic()
        async with runtime.engine.begin() as conn:
            moved = await tick(conn, runtime.store, RULEBOOK, clock().now()) if await scheduling(conn) else 0
        if moved:
            log.info("deadlines.moved", count=moved)
        if moved < BATCH:
            await asyncio.sleep(runtime.settings.scheduler_seconds)


async def close_month(conn: AsyncConnection, store: EventStore, book: RuleBook, today: date) -> bool:
    """Once per month, for the month before `today`: judge the month-end rules. False if it was closed already."""
    closed_on = today.replace(day=1) - timedelta(days=1)
    month = MonthClosed(month=f"{closed_on:%Y-%m}", closed_on=closed_on, fiscal_year=closed_on.year,
                        time_progress=year_progress(closed_on))
    stored, _ = await store.create_streams(conn, [NewStream(f"month-closed-{month.month}", "month", [month])],
                                           store.metadata(actor="system:alerting"))
    if not stored:
        return False
    rules = [r for r in book.for_year(month.fiscal_year) if MonthClosed.event_type in r.on]
    payload = month.model_dump()
    cause = str(stored[0].event_id)
    judged: list[tuple[Breach | None, Rule, str, str | None, str | None]] = []
    indicator_rules = [r for r in rules if r.subject == "indicator"]
    if indicator_rules:
        for row in await conn.execute(select(balances).where(balances.c.fiscal_year == month.fiscal_year,
                                                             balances.c.amount.is_not(None))):
            money = {**(row.registered or {}), **{k: v for k, v in row._mapping.items() if k != "registered"}}
            facts = month_facts(payload, indicator=money)
            for rule in indicator_rules:
                found = judge([rule], MonthClosed.event_type, facts, row.org_unit)
                judged.append((found[0] if found else None, rule, row.indicator_id, row.org_unit, row.owner_division))
    district_rules = [r for r in rules if r.subject == "org_unit"]
    if district_rules:
        b = balances.c
        for row in await conn.execute(
                select(b.org_unit, func.sum(b.amount).label("amount"), func.sum(b.allocated).label("allocated"),
                       func.sum(b.paid).label("paid"), func.sum(b.refunded).label("refunded"))
                .where(b.fiscal_year == month.fiscal_year, b.amount.is_not(None), b.org_unit != CITY_ORG_UNIT)
                .group_by(b.org_unit)):
            district = {**row._mapping, "name": ORG_UNITS.get(row.org_unit, row.org_unit)}
            facts = month_facts(payload, district=district)
            for rule in district_rules:
                found = judge([rule], MonthClosed.event_type, facts, row.org_unit)
                judged.append((found[0] if found else None, rule, row.org_unit, row.org_unit, None))
    # This month's judgment takes over from the earlier months' bells: they clear, a new one rings if still behind.
    earlier = {(r.rule_id, r.subject_id): r.alert_id for r in await conn.execute(
        select(alerts.c.rule_id, alerts.c.subject_id, alerts.c.alert_id).where(
            alerts.c.rule_id.in_([r.id for r in rules]), alerts.c.status == "open", alerts.c.period != month.month))}
    for found, rule, subject_id, org_unit, owner_division in judged:
        if (rule.id, subject_id) in earlier:
            reason = f"由 {month.month} 月末的判断接续" if found else f"{month.month} 月末已赶上序时进度"
            await move(conn, store, earlier[(rule.id, subject_id)], AlertAction.CLEAR, reason, cause)
        if found is not None:
            await raise_or_update(conn, store, found, period=month.month, org_unit=org_unit,
                                  owner_division=owner_division, cause=cause)
    log.info("month.closed", month=month.month, judged=len(judged))
    return True


def next_cycle_year(today: date) -> int:
    """The fiscal year whose rules are to be proposed next: the coming one until 10-15, then the one after."""
    return today.year + 1 if today < date(today.year, *PROPOSE_BY) else today.year + 2


async def open_rule_cycle(conn: AsyncConnection, store: EventStore, today: date) -> None:
    """Open the yearly cycle of the next fiscal year once (its clocks then ring the bells of LC-002/LC-003)."""
    year = next_cycle_year(today)
    rule = RULEBOOK.by_id(year - 1).get("workflow.rules_not_proposed")
    divisions = rule.params.get("divisions", []) if rule else []
    events = [RuleCycleOpened(cycle_id=f"{year}-{d}", fiscal_year=year, step="propose", owner_division=d,
                              org_unit=CITY_ORG_UNIT, due_on=date(year - 1, *PROPOSE_BY)) for d in divisions]
    events.append(RuleCycleOpened(cycle_id=f"{year}-treasury", fiscal_year=year, step="consolidate",
                                  owner_division="treasury", org_unit=CITY_ORG_UNIT, due_on=date(year - 1, *REPORT_BY)))
    _, existing = await store.create_streams(conn, [NewStream(f"rule-cycle-{year}", "rule-cycle", events)],
                                             store.metadata(actor="system:alerting"))
    if not existing:
        log.info("rule_cycle.opened", fiscal_year=year, parties=len(events))


async def _raise(conn: AsyncConnection, store: EventStore, rule: Rule, row: Any, *, bell: bool) -> str:
    return await raise_or_update(conn, store, breach(rule, row.subject_id, row.facts, ringing=bell), period=row.period,
                                 org_unit=row.org_unit, owner_division=row.owner_division, cause=row.watch_id,
                                 bell=bell)
