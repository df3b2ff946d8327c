"""The alert lifecycle (第十九条, 第二十二条): one transition table, decisions without I/O.

    黄色警铃 open ──clear──▶ cleared             (the work was done in time: automatic)
    黄色警铃 open ──escalate──▶ 黄灯/红灯 open     (the time ran out: automatic, the rule says which)
    黄灯 open ──verify_normal──▶ 黄灯 green        (核实为正常)
    黄灯 open ──confirm_violation──▶ 红灯 open     (确认为违规)
    红灯 open ──record_correction──▶ 红灯 green    (已纠正)
    红灯 open ──take_measure──▶ 红灯 open          (收回、暂缓拨付、通报、移交)
    红灯 open ──clear──▶ cleared                  (what was missing came after all: automatic, e.g. ZC-009)
    green ──reopen──▶ open                         (监督局)

A closed alert keeps the level it had, so that a green that was once red stays distinguishable.
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from backbone.errors import Forbidden
from backbone.lifecycle import StepOutOfTurn
from contracts.alerting import AlertBreachRepeated, AlertRaised, AlertTransitioned, DisposalSheet
from contracts.envelope import EventEnvelope
from contracts.values import AlertAction, AlertLevel, AlertStatus

BELL, YELLOW, RED = AlertLevel.YELLOW_BELL, AlertLevel.YELLOW, AlertLevel.RED
OPEN, GREEN, CLEARED = AlertStatus.OPEN, AlertStatus.GREEN, AlertStatus.CLEARED
A = AlertAction

State = tuple[AlertLevel, AlertStatus]
ESCALATION = "escalation"  # the next level is the rule's: yellow or red

TRANSITIONS: dict[tuple[State, AlertAction], State | str] = {
    ((BELL, OPEN), A.CLEAR): (BELL, CLEARED),
    ((BELL, OPEN), A.ESCALATE): ESCALATION,
    ((YELLOW, OPEN), A.VERIFY_NORMAL): (YELLOW, GREEN),
    ((YELLOW, OPEN), A.CONFIRM_VIOLATION): (RED, OPEN),
    ((RED, OPEN), A.RECORD_CORRECTION): (RED, GREEN),
    ((RED, OPEN), A.TAKE_MEASURE): (RED, OPEN),
    ((RED, OPEN), A.CLEAR): (RED, CLEARED),
    ((YELLOW, GREEN), A.REOPEN): (YELLOW, OPEN),
    ((RED, GREEN), A.REOPEN): (RED, OPEN),
}

# Who may take each step: the system, the division that owns the fund (谁主管、谁负责), the district
# concerned, the supervision bureau.
SYSTEM, OWNER, DISTRICT, SUPERVISION = "system", "owner", "district", "supervision"
ACTORS: dict[AlertAction, frozenset[str]] = {
    A.CLEAR: frozenset({SYSTEM}), A.ESCALATE: frozenset({SYSTEM}),
    A.VERIFY_NORMAL: frozenset({OWNER, DISTRICT, SUPERVISION}),
    A.CONFIRM_VIOLATION: frozenset({OWNER, DISTRICT, SUPERVISION}),
    A.RECORD_CORRECTION: frozenset({OWNER, DISTRICT, SUPERVISION}),
    A.TAKE_MEASURE: frozenset({OWNER, SUPERVISION}),
    A.REOPEN: frozenset({SUPERVISION}),
}


@dataclass(frozen=True)
class AlertState:
    """An alert where it stands, rebuilt from its events."""

    alert_id: str
    rule_id: str
    level: AlertLevel
    status: AlertStatus
    org_unit: str | None
    owner_division: str | None
    escalate_to: AlertLevel | None
    version: int

    @property
    def state(self) -> State:
        return self.level, self.status

    def allowed(self, by: Iterable[str] | None = None) -> list[AlertAction]:
        """The actions possible now (for these actors, when given)."""
        actors = set(by) if by is not None else None
        return [action for (state, action) in TRANSITIONS if state == self.state
                and (actors is None or ACTORS[action] & actors)]


def decide(alert: AlertState, action: AlertAction, *, by: frozenset[str], now: datetime,
           sheet: DisposalSheet | None = None, reason: str | None = None) -> AlertTransitioned:
    """The event of taking `action` on `alert`, or why it cannot be taken."""
    target = TRANSITIONS.get((alert.state, action))
    if target is None:
        allowed = alert.allowed(by)
        raise StepOutOfTurn(
            f"{action.value} is not possible on a {alert.level.value} alert that is {alert.status.value}",
            status_now=f"{alert.level.value} {alert.status.value}", alert_level=alert.level.value,
            alert_status=alert.status.value, allowed=[a.value for a in allowed])
    if not ACTORS[action] & by:
        raise Forbidden(f"{action.value} is for: {', '.join(sorted(ACTORS[action]))}")
    if target == ESCALATION:
        target = (alert.escalate_to or YELLOW, OPEN)
    if SYSTEM not in ACTORS[action] and sheet is None:
        raise ValueError("a person's step needs its disposal sheet")
    level, status = target  # type: ignore[misc]
    return AlertTransitioned(alert_id=alert.alert_id, rule_id=alert.rule_id, org_unit=alert.org_unit,
                             owner_division=alert.owner_division, action=action, from_level=alert.level,
                             from_status=alert.status, to_level=level, to_status=status, sheet=sheet,
                             reason=reason, at=now)


def apply(alert: AlertState | None, envelope: EventEnvelope) -> AlertState | None:
    """The alert after one of its events."""
    payload = envelope.payload
    if envelope.event_type == AlertRaised.event_type:
        raised = AlertRaised.model_validate(payload)
        return AlertState(alert_id=raised.alert_id, rule_id=raised.rule_id, level=raised.level, status=OPEN,
                          org_unit=raised.org_unit, owner_division=raised.owner_division,
                          escalate_to=raised.escalate_to, version=envelope.version)
    if alert is None:
        return None
    if envelope.event_type == AlertTransitioned.event_type:
        return replace(alert, level=AlertLevel(payload["to_level"]), status=AlertStatus(payload["to_status"]),
                       version=envelope.version)
    if envelope.event_type == AlertBreachRepeated.event_type:
        return replace(alert, version=envelope.version)
    return alert


def replay(envelopes: Iterable[EventEnvelope]) -> AlertState | None:
    """An alert rebuilt from its stream."""
    alert = None
    for envelope in envelopes:
        alert = apply(alert, envelope)
    return alert
