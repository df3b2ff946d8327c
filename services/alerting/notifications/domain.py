"""Who is told what, and when (第十八条, 第二十一条): the liaison register's rules and the notifications' decisions.

No I/O: the consumer, the sender and the routes ask here. A red light goes to the division that owns the fund at
once (and to the district for a district's fund); a step left overdue (LC-001) to the district's responsible
leader; the day's yellow bells (黄色警铃) as one digest per office the next morning.
"""

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from backbone.identity import Principal
from backbone.workdays import SHANGHAI
from contracts.notifications import Person, UnitKind
from contracts.values import CITY_ORG_UNIT, DIVISIONS, ORG_UNITS, AlertLevel

# The rule whose alert says a step of another alert is overdue (预警信息未及时处理).
OVERDUE_RULE = "workflow.alert_not_handled"
DISTRICTS = {code: name for code, name in ORG_UNITS.items() if code != CITY_ORG_UNIT}


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


class Kind(StrEnum):
    RED_LIGHT = "red_light"
    OVERDUE = "overdue"
    DIGEST = "digest"


class Role(StrEnum):
    LEADER = "leader"  # 责任领导
    CONTACT = "contact"  # 具体联络人员


@dataclass(frozen=True)
class Liaisons:
    """A unit's row of the register."""

    unit: str
    leader: Person
    contact: Person


@dataclass(frozen=True)
class Planned:
    """A message to send: one channel, one address. Its key makes it once only, however often it is planned."""

    key: str
    channel: Channel
    address: str
    unit: str
    role: Role
    kind: Kind
    subject_key: str
    title: str
    body: str


def unit_kind(unit: str) -> UnitKind | None:
    """A district (区, 开发区) or a division of the bureau; None for anything else (the city itself included)."""
    if unit in DISTRICTS:
        return "district"
    return "division" if unit in DIVISIONS else None


def unit_name(unit: str) -> str:
    return DISTRICTS.get(unit) or DIVISIONS.get(unit, unit)


def may_set(principal: Principal, unit: str) -> bool:
    """A district names its own people (第十八条 makes it its duty), a division its own; the treasury (国库处, the
    daily management of the monitoring, 第十条) and the administrators keep any row right."""
    if principal.has_any("treasury", "admin"):
        return True
    if unit_kind(unit) == "district":
        return "district" in principal.roles and principal.org_unit == unit
    return "division" in principal.roles and principal.division == unit


def addresses(person: Person, channels: Iterable[Channel]) -> list[tuple[Channel, str]]:
    """Where a person is reached on the channels that are on: e-mail if they gave one, SMS to a mobile number."""
    found = []
    for channel in channels:
        if channel is Channel.EMAIL and person.email:
            found.append((channel, person.email))
        elif channel is Channel.SMS and is_mobile(person.phone):
            found.append((channel, person.phone))
    return found


def is_mobile(phone: str) -> bool:
    """A mainland mobile number (11 digits from 1, optionally +86): what an SMS can reach, unlike an office line."""
    digits = phone.removeprefix("+86")
    return len(digits) == 11 and digits.isdigit() and digits.startswith("1")


def _to(liaisons: Liaisons | None, role: Role, kind: Kind, subject_key: str, title: str, body: str,
        channels: Sequence[Channel], key_suffix: str = "") -> list[Planned]:
    if liaisons is None:
        return []
    person = liaisons.leader if role is Role.LEADER else liaisons.contact
    return [Planned(key=f"{kind}:{subject_key}{key_suffix and ':' + key_suffix}:{liaisons.unit}:{role}:{channel}:"
                        f"{address}", channel=channel,
                    address=address, unit=liaisons.unit, role=role, kind=kind, subject_key=subject_key, title=title,
                    body=body)
            for channel, address in addresses(person, channels)]


def turned_red(event_type: str, payload: Mapping[str, Any]) -> bool:
    """Whether an alert event makes a red light: raised red, or moved to red from another level."""
    if event_type == "alerting.AlertRaised":
        return payload.get("level") == AlertLevel.RED
    if event_type == "alerting.AlertTransitioned":
        return payload.get("to_level") == AlertLevel.RED and payload.get("from_level") != AlertLevel.RED
    return False


def overdue(event_type: str, payload: Mapping[str, Any]) -> bool:
    """Whether an alert event says a district's step is overdue (LC-001 raised on a district's alert)."""
    return (event_type == "alerting.AlertRaised" and payload.get("rule_id") == OVERDUE_RULE
            and payload.get("org_unit") in DISTRICTS)


def rang_bell(event_type: str, payload: Mapping[str, Any]) -> bool:
    return event_type == "alerting.AlertRaised" and payload.get("level") == AlertLevel.YELLOW_BELL


def offices_of(payload: Mapping[str, Any]) -> list[str]:
    """The offices an alert is routed to (谁主管、谁负责): the division that owns the fund, and the district of a
    district's fund."""
    offices = [payload["owner_division"]] if payload.get("owner_division") in DIVISIONS else []
    if payload.get("org_unit") in DISTRICTS:
        offices.append(payload["org_unit"])
    return offices


def plan_alert_event(event_type: str, payload: Mapping[str, Any], register: Mapping[str, Liaisons],
                     channels: Sequence[Channel]) -> list[Planned]:
    """What an alert event sends at once: a red light to its offices' contact persons, an overdue step to the
    district's responsible leader."""
    alert_id = payload["alert_id"]
    planned: list[Planned] = []
    if turned_red(event_type, payload):
        title, body = red_light_text(payload)
        for office in offices_of(payload):
            planned += _to(register.get(office), Role.CONTACT, Kind.RED_LIGHT, alert_id, title, body, channels)
    if overdue(event_type, payload):
        title, body = overdue_text(payload)
        planned += _to(register.get(payload["org_unit"]), Role.LEADER, Kind.OVERDUE, alert_id, title, body, channels)
    return planned


@dataclass(frozen=True)
class Bell:
    """A yellow bell waiting for an office's digest."""

    alert_id: str
    rule_number: str
    rule_name: str
    summary: str


def plan_digest(day: date, liaisons: Liaisons | None, bells: Sequence[Bell], channels: Sequence[Channel]
                ) -> list[Planned]:
    """One digest of a day's bells for an office's contact person, on each channel."""
    if not bells or liaisons is None:
        return []
    title = f"【扶贫资金动态监控】{day:%Y-%m-%d} 黄色警铃汇总（{len(bells)} 条）"
    lines = [f"{unit_name(liaisons.unit)}：{day:%Y年%m月%d日}新出现黄色警铃 {len(bells)} 条，请在工作时限内办理。"]
    lines += [f"{i}. [{b.rule_number}] {b.rule_name}：{b.summary}（预警 {b.alert_id}）"
              for i, b in enumerate(bells, 1)]
    # Bells that reach the office after its day's digest went out (a consumer catching up) make a digest of their
    # own: the key names the bells it carries.
    which = hashlib.sha256(",".join(sorted(b.alert_id for b in bells)).encode()).hexdigest()[:12]
    return _to(liaisons, Role.CONTACT, Kind.DIGEST, f"{day.isoformat()}", title, "\n".join(lines), channels,
               key_suffix=which)


def digest_due(now: datetime, day: date, hour: int) -> bool:
    """A day's digest goes out once the day is over, from `hour` o'clock (Beijing) of the next day."""
    return now >= datetime.combine(day + timedelta(days=1), time(hour), tzinfo=SHANGHAI)


def red_light_text(payload: Mapping[str, Any]) -> tuple[str, str]:
    rule = f"[{payload.get('rule_number', '')}] {payload.get('rule_name', payload.get('rule_id', ''))}".strip()
    title = f"【扶贫资金动态监控】红灯预警 {payload['alert_id']}"
    where = "、".join(unit_name(o) for o in offices_of(payload))
    body = (f"红灯预警（确认违规）：{rule}。预警编号 {payload['alert_id']}，涉及 {where or '本单位'}。"
            "请按“谁主管、谁负责”原则跟踪纠正，并在监控平台记录处理单（第二十二条）。")
    return title, body


def overdue_text(payload: Mapping[str, Any]) -> tuple[str, str]:
    explanation = payload.get("explanation") or {}
    summary = explanation.get("summary") if isinstance(explanation, dict) else None
    title = f"【扶贫资金动态监控】预警处理超期 {payload['alert_id']}"
    body = (f"{unit_name(payload['org_unit'])}责任领导：预警处理环节已超过规定工作时限。"
            f"{summary or ''} 请督促及时处理（第十八条、第二十三条）。")
    return title, body


def too_old(occurred_at: datetime, now: datetime, max_age_hours: float) -> bool:
    """Whether an event is news no longer: a consumer group reading alerting's history from its start (the first
    deployment of notifications, a group of its own after a stall) must not mail every red light of the past."""
    return now - occurred_at > timedelta(hours=max_age_hours)


def backoff(attempts: int, first: float, longest: float) -> timedelta:
    """The wait after the `attempts`-th failed attempt: `first` seconds, doubling, never longer than `longest`."""
    return timedelta(seconds=min(first * 2 ** max(attempts - 1, 0), longest))


def settle(attempts: int, error: str | None, max_attempts: int) -> str:
    """Where a delivery stands after an attempt: sent, pending (tried again later) or failed for good."""
    if error is None:
        return "sent"
    return "failed" if attempts >= max_attempts else "pending"
