"""The alert lifecycle (第十九条, 第二十二条): one transition table, decisions without I/O.

    黄色警铃 open ──clear──▶ cleared             (the work was done in time: automatic)
    黄色警铃 open ──escalate──▶ 黄灯/红灯 open     (the time ran out: automatic, the rule says which)
    黄灯 open ──verify_normal──▶ 黄灯 green        (核实为正常)
    黄灯 open ──confirm_violation──▶ 红灯 open     (确认为违规)
    红灯 open ──record_correction──▶ 红灯 green    (已纠正)
    红灯 open ──take_measure──▶ 红灯 open          (收回、暂缓拨付、通报、移交)
    红灯 open ──clear──▶ cleared                  (what was missing came after all: automatic, e.g. ZC-009)
    green ──reopen──▶ open                         (监督局)
    黄灯 green / 红灯 ──concur──▶ unchanged          (监督局会同核实疑点, 第二十四条(三))

A yellow light whose verification sheet marks it a suspicious item (疑点) counts as verified only once the
supervision bureau concurs with that sheet; `co_verification` says who is still awaited.

A closed alert keeps the level it had, so that a green that was once red stays distinguishable.
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

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
    ((YELLOW, GREEN), A.CONCUR): (YELLOW, GREEN),
    ((RED, OPEN), A.CONCUR): (RED, OPEN),
    ((RED, GREEN), A.CONCUR): (RED, GREEN),
}
VERIFICATIONS = frozenset({A.VERIFY_NORMAL, A.CONFIRM_VIOLATION})

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
    A.CONCUR: frozenset({SUPERVISION}),
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
    suspicious: bool = False  # 疑点: a verification sheet marked it
    verification_sheet: str | None = None  # the latest verification of a 疑点 (the division's 处理单)
    concurrence_sheet: str | None = None  # the supervision bureau's concurrence with it

    @property
    def state(self) -> State:
        return self.level, self.status

    @property
    def awaiting_concurrence(self) -> bool:
        return self.verification_sheet is not None and self.concurrence_sheet is None

    def allowed(self, by: Iterable[str] | None = None) -> list[AlertAction]:
        """The actions possible now (for these actors, when given)."""
        actors = set(by) if by is not None else None
        return [action for (state, action) in TRANSITIONS if state == self.state
                and (action is not A.CONCUR or self.awaiting_concurrence)
                and (actors is None or ACTORS[action] & actors)]

    def co_verification(self) -> dict[str, Any] | None:
        """For a 疑点 (第二十四条(三)): the division's sheet and the bureau's concurrence, whether it counts as
        verified, and who is still awaited."""
        if not self.suspicious:
            return None
        awaiting = (["division"] if self.verification_sheet is None else
                    ["supervision"] if self.concurrence_sheet is None else [])
        return {"verification_sheet": self.verification_sheet, "concurrence_sheet": self.concurrence_sheet,
                "verified": not awaiting, "awaiting": awaiting}


def decide(alert: AlertState, action: AlertAction, *, by: frozenset[str], now: datetime,
           sheet: DisposalSheet | None = None, reason: str | None = None) -> AlertTransitioned:
    """The event of taking `action` on `alert`, or why it cannot be taken."""
    target = TRANSITIONS.get((alert.state, action))
    if action is A.CONCUR and not alert.awaiting_concurrence:
        target = None  # only a suspicious item's verification waits for the bureau, and only once
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
        return moved(alert, AlertTransitioned.model_validate(payload), envelope.version)
    if envelope.event_type == AlertBreachRepeated.event_type:
        return replace(alert, version=envelope.version)
    return alert


def moved(alert: AlertState, step: AlertTransitioned, version: int) -> AlertState:
    """The alert after one of its steps, with its 疑点 marks: a verification (marked, or of an alert marked before)
    awaits the bureau anew, its concurrence completes it, a yellow light reopened (its verification put aside) asks
    for both again."""
    alert = replace(alert, level=step.to_level, status=step.to_status, version=version)
    sheet = step.sheet
    if step.action in VERIFICATIONS and sheet and (alert.suspicious or sheet.suspicious_item):
        return replace(alert, suspicious=True, verification_sheet=sheet.number, concurrence_sheet=None)
    if step.action is A.CONCUR and sheet:
        return replace(alert, concurrence_sheet=sheet.number)
    if step.action is A.REOPEN and alert.level is YELLOW:
        return replace(alert, verification_sheet=None, concurrence_sheet=None)
    return alert


def replay(envelopes: Iterable[EventEnvelope]) -> AlertState | None:
    """An alert rebuilt from its stream."""
    alert = None
    for envelope in envelopes:
        alert = apply(alert, envelope)
    return alert
