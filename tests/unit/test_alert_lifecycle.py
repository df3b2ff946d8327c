"""The alert lifecycle: no sequence of commands reaches an illegal state; each state change is one event."""

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backbone.errors import Forbidden
from backbone.lifecycle import StepOutOfTurn
from contracts.alerting import AlertRaised, AlertSubject, DisposalSheet
from contracts.envelope import EventEnvelope
from contracts.values import AlertAction, AlertLevel, AlertStatus
from services.alerting.lifecycle import (ACTORS, BELL, CLEARED, GREEN, OPEN, RED, YELLOW,
                                         apply, decide, replay)

NOW = datetime(2026, 11, 28, 9, tzinfo=UTC)
LEGAL = {(BELL, OPEN), (BELL, CLEARED), (YELLOW, OPEN), (YELLOW, GREEN), (RED, OPEN), (RED, GREEN), (RED, CLEARED)}
SHEET = DisposalSheet(number="CLD-2026-000001", findings="电话核实", handler="tester")
MARKED = SHEET.model_copy(update={"number": "CLD-2026-000002", "suspicious_item": True})


def envelope(event, version: int) -> EventEnvelope:
    return EventEnvelope.model_construct(event_id=uuid4(), stream_id=f"alert-{event.alert_id}", version=version,
                                         event_type=event.event_type, payload=event.model_dump(mode="json"))


def raised(level: AlertLevel, escalate_to: AlertLevel | None = None) -> EventEnvelope:
    return envelope(AlertRaised(alert_id="a-1", rule_id="r", rule_number="X-1", rule_name="r", level=level,
                                subject=AlertSubject(kind="payment", id="p"), period="2026", org_unit="220102",
                                owner_division="agriculture", explanation={}, raised_at=NOW, escalate_to=escalate_to),
                    1)


actors = st.frozensets(st.sampled_from(["system", "owner", "district", "supervision", "stranger"]), max_size=3)


@given(start=st.sampled_from([(BELL, YELLOW), (BELL, RED), (YELLOW, None), (RED, None)]),
       commands=st.lists(st.tuples(st.sampled_from(list(AlertAction)), actors, st.booleans()), max_size=12))
def test_no_sequence_of_commands_reaches_an_illegal_state(start, commands):
    history = [raised(*start)]
    alert = replay(history)
    for action, by, suspicious in commands:
        before = alert
        try:
            event = decide(alert, action, by=by, now=NOW, sheet=MARKED if suspicious else SHEET)
        except StepOutOfTurn as refused:
            assert action not in alert.allowed()
            assert set(refused.extra["allowed"]) == {a.value for a in alert.allowed(by)}
            continue
        except Forbidden:
            assert not ACTORS[action] & by
            continue
        history.append(envelope(event, alert.version + 1))
        alert = apply(alert, history[-1])
        assert (event.from_level, event.from_status) == before.state
        assert alert.state in LEGAL and alert.version == before.version + 1
    assert replay(history) == alert, "the events alone rebuild the alert"


def test_a_bell_escalates_to_the_level_its_rule_names_and_is_then_handled_like_that_level():
    bell = replay([raised(BELL, RED)])
    event = decide(bell, AlertAction.ESCALATE, by=frozenset({"system"}), now=NOW, reason="期限已到")
    red = apply(bell, envelope(event, 2))
    assert red.state == (RED, OPEN) and red.allowed({"owner"}) == [AlertAction.RECORD_CORRECTION,
                                                                   AlertAction.TAKE_MEASURE]


def test_an_illegal_step_names_the_steps_that_are_possible():
    yellow = replay([raised(YELLOW)])
    with pytest.raises(StepOutOfTurn) as refused:
        decide(yellow, AlertAction.RECORD_CORRECTION, by=frozenset({"owner"}), now=NOW, sheet=SHEET)
    assert refused.value.status == 409
    assert refused.value.extra["allowed"] == ["verify_normal", "confirm_violation"]


def test_only_the_supervision_bureau_reopens():
    yellow = replay([raised(YELLOW)])
    green = apply(yellow, envelope(decide(yellow, AlertAction.VERIFY_NORMAL, by=frozenset({"owner"}), now=NOW,
                                          sheet=SHEET), 2))
    with pytest.raises(Forbidden):
        decide(green, AlertAction.REOPEN, by=frozenset({"owner", "district"}), now=NOW, sheet=SHEET)
    reopened = decide(green, AlertAction.REOPEN, by=frozenset({"supervision"}), now=NOW, sheet=SHEET)
    assert (reopened.to_level, reopened.to_status) == (YELLOW, AlertStatus.OPEN)


def test_a_red_light_whose_cause_went_away_is_cleared_by_the_system_only():
    red = replay([raised(RED)])
    with pytest.raises(Forbidden):
        decide(red, AlertAction.CLEAR, by=frozenset({"owner", "supervision"}), now=NOW, sheet=SHEET)
    event = decide(red, AlertAction.CLEAR, by=frozenset({"system"}), now=NOW, reason="预算指标已在台账登记")
    assert (event.to_level, event.to_status, event.reason) == (RED, CLEARED, "预算指标已在台账登记")


def step(alert, action: AlertAction, by: str, sheet: DisposalSheet = SHEET):
    return apply(alert, envelope(decide(alert, action, by=frozenset({by}), now=NOW, sheet=sheet), alert.version + 1))


def test_a_suspicious_item_counts_as_verified_once_the_supervision_bureau_concurs_with_the_division():
    yellow = replay([raised(YELLOW)])
    # Not a 疑点 yet: nobody is awaited, and there is nothing to concur with.
    assert yellow.co_verification() is None and AlertAction.CONCUR not in yellow.allowed()
    # The division's sheet marks it: green, and the bureau is awaited.
    green = step(yellow, AlertAction.VERIFY_NORMAL, "owner", MARKED)
    assert green.state == (YELLOW, GREEN)
    assert green.co_verification() == {"verification_sheet": MARKED.number, "concurrence_sheet": None,
                                       "verified": False, "awaiting": ["supervision"]}
    assert green.allowed({"supervision"}) == [AlertAction.REOPEN, AlertAction.CONCUR]
    # Only the bureau concurs.
    with pytest.raises(Forbidden):
        decide(green, AlertAction.CONCUR, by=frozenset({"owner"}), now=NOW, sheet=SHEET)
    concurred = step(green, AlertAction.CONCUR, "supervision")
    assert concurred.state == (YELLOW, GREEN) and concurred.co_verification()["verified"] is True
    assert concurred.co_verification()["awaiting"] == []
    # Concurring twice is out of turn.
    with pytest.raises(StepOutOfTurn):
        decide(concurred, AlertAction.CONCUR, by=frozenset({"supervision"}), now=NOW, sheet=SHEET)


def test_a_reopened_suspicious_item_awaits_the_division_then_the_bureau_again():
    green = step(replay([raised(YELLOW)]), AlertAction.VERIFY_NORMAL, "owner", MARKED)
    concurred = step(green, AlertAction.CONCUR, "supervision")
    reopened = step(concurred, AlertAction.REOPEN, "supervision")
    assert reopened.co_verification()["awaiting"] == ["division"]
    # The next verification needs no mark of its own: the alert stays a 疑点.
    red = step(reopened, AlertAction.CONFIRM_VIOLATION, "owner")
    assert red.state == (RED, OPEN) and red.co_verification()["awaiting"] == ["supervision"]
    assert step(red, AlertAction.CONCUR, "supervision").co_verification()["verified"] is True


def test_a_red_light_not_marked_suspicious_has_no_concurrence_to_give():
    red = replay([raised(RED)])
    with pytest.raises(StepOutOfTurn):
        decide(red, AlertAction.CONCUR, by=frozenset({"supervision"}), now=NOW, sheet=SHEET)
