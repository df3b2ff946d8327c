"""Deadline rules (工作时限): when a clock starts, when its bell rings, when its time runs out. No I/O.

A watch is one running clock: a rule, a subject (an indicator), the day it counts from, the
instant its bell rings and the instant its time runs out (the end of the due day in Beijing).
Working days follow the shared calendar (holidays and 调休); calendar days follow the law.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from backbone.workdays import SHANGHAI, WorkdayCalendar, period_end
from contracts.alerting import AlertSubject
from services.alerting.rules import Rule
from services.alerting.rules.engine import Breach, shown
from services.alerting.rules.expressions import fill, lookup


@dataclass(frozen=True)
class Watch:
    """A running clock of a deadline rule on one subject."""

    watch_id: str
    rule_id: str
    subject_id: str
    counts_from: date
    bell_at: datetime | None
    due_at: datetime
    facts: dict[str, Any]


def watch_id_for(rule_id: str, subject_id: str, step: str | None = None) -> str:
    """One clock per rule and subject (per step too, for a per-step rule): the same starting event twice
    starts nothing new."""
    return str(uuid5(NAMESPACE_URL, f"fundwatch:watch:{rule_id}:{subject_id}" + (f":{step}" if step else "")))


@dataclass(frozen=True)
class Start:
    """A clock an event starts, before its dates and facts are worked out: enough to tell which clock it is."""

    subject_id: str
    counts_from: date
    step: str | None = None
    period: str | None = None

    def watch_id(self, rule: Rule) -> str:
        return watch_id_for(rule.id, self.subject_id, self.step)


def starts(rule: Rule, event_type: str, payload: dict[str, Any], cause: object = "", occurred_on: date | None = None
           ) -> list[Start]:
    """The clocks an event (whose id is `cause`, stored on `occurred_on`) starts under a deadline rule: none, one,
    or one per reporting point still ahead for a rule with points."""
    spec = rule.deadline
    if spec is None or event_type not in spec.start_on or rule.start_condition is None:
        return []
    facts = {"event": payload, "event_type": event_type, "params": rule.params, "occurred_on": occurred_on}
    if not rule.holds(rule.start_condition, facts):
        return []
    counts_from = next((d for d in (_as_date(lookup(path, facts)) for path in spec.due_from) if d), None)
    subject_id = lookup(spec.subject_path, payload)
    if counts_from is None or not subject_id:
        return []
    if spec.points_parameter is None:
        return [Start(subject_id, counts_from, str(cause) if spec.per_step else None)]
    year = payload.get("fiscal_year") or counts_from.year
    ends = sorted({period_end(f"{year}-{point}") for point in rule.params[spec.points_parameter]})
    # Each point's alert is its own (its period is the point's month): a bell for June leaves March's alone.
    return [Start(subject_id, end, end.isoformat(), f"{end:%Y-%m}") for end in ends if end >= counts_from]


def start(rule: Rule, event_type: str, payload: dict[str, Any], calendar: WorkdayCalendar,
          cause: object = "", occurred_on: date | None = None) -> list[Watch]:
    """The watches an event (whose id is `cause`, stored on `occurred_on`) starts under a deadline rule, with their
    bells, deadlines and facts."""
    return [_watch(rule, s.subject_id, s.counts_from, payload, calendar, s.step, s.period)
            for s in starts(rule, event_type, payload, cause, occurred_on)]


def _watch(rule: Rule, subject_id: str, counts_from: date, payload: dict[str, Any], calendar: WorkdayCalendar,
           step: str | None, period: str | None = None) -> Watch:
    spec = rule.deadline
    assert spec is not None
    days = int(rule.params[spec.days_parameter])
    due_day = (calendar.add_workdays(counts_from, days) if spec.calendar == "working"
               else counts_from + timedelta(days=days))
    bell_at = None
    if spec.bell_parameter is not None:
        bell_day = calendar.sub_workdays(due_day, int(rule.params[spec.bell_parameter]))
        bell_at = datetime.combine(bell_day, time.min, tzinfo=SHANGHAI)
    return Watch(watch_id=watch_id_for(rule.id, subject_id, step), rule_id=rule.id, subject_id=subject_id,
                 counts_from=counts_from, bell_at=bell_at,
                 due_at=datetime.combine(due_day, time.max, tzinfo=SHANGHAI),
                 facts={"event": {k: shown(v) for k, v in payload.items()}, "due_day": due_day.isoformat(),
                        "counts_from": counts_from.isoformat()} | ({"period": period} if period else {}))


def meets(rule: Rule, event_type: str, payload: dict[str, Any]) -> tuple[str, date | None] | None:
    """The subject whose expectation this event meets under the rule, if any, and for a rule with reporting
    points, the end of the period it reports on (it meets only that point's clock)."""
    spec = rule.deadline
    if spec is None or event_type not in spec.expect_on or rule.expect_condition is None:
        return None
    if not rule.holds(rule.expect_condition, {"event": payload, "event_type": event_type, "params": rule.params}):
        return None
    subject = lookup(spec.expect_path, payload)
    if not subject:
        return None
    if spec.points_parameter is None:
        return subject, None
    point = _as_date(lookup(spec.expect_point_path, payload))
    return (subject, point) if point else None


def settled_ahead(rule: Rule, subject_id: str, point: date | None) -> str | None:
    """The clock that a meeting event settles before its starting event was seen (events of two topics arrive
    in any order): its id, so that the late start finds it met. None for a per-step clock, whose start and
    meeting are one service's own events, stored in order."""
    spec = rule.deadline
    if spec is None or spec.per_step:
        return None
    if spec.points_parameter is None:
        return watch_id_for(rule.id, subject_id)
    return watch_id_for(rule.id, subject_id, point.isoformat()) if point else None


def breach(rule: Rule, subject_id: str, facts: dict[str, Any], *, ringing: bool) -> Breach:
    """The breach a watch raises: its bell ahead of the deadline, or the light once the time ran out."""
    seen = {**facts, "params": rule.params}
    summary = fill(rule.summary, seen)
    if ringing:
        summary = f"将于 {facts['due_day']} 到期：" + summary
    indicator_id = subject_id if rule.subject == "indicator" else facts["event"].get("indicator_id")
    return Breach(rule, AlertSubject(kind=rule.subject, id=subject_id, indicator_id=indicator_id),
                  {path: shown(lookup(path, seen)) for path in rule.values}, summary, period=facts.get("period"))


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.astimezone(SHANGHAI).date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        return date.fromisoformat(value[:10])
    return None
