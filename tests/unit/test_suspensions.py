"""暂缓拨付: a suspension is lifted only when its division asks and the supervision bureau consents."""

from datetime import UTC, datetime

import pytest

from backbone.lifecycle import StepOutOfTurn
from services.alerting.suspensions import Standing, decide_lift, request_lift, suspend

NOW = datetime(2026, 11, 28, 9, tzinfo=UTC)


def suspended(standing: Standing):
    return suspend(indicator_id="ind-1", standing=standing, alert_id="a-1", sheet_number="CLD-2026-000001",
                   org_unit="220102", owner_division="agriculture", by="农业处-王", now=NOW)


def test_a_second_sheet_suspending_a_suspended_indicator_adds_nothing():
    assert suspended(Standing.LIFTED).suspended_by == "农业处-王"
    assert suspended(Standing.SUSPENDED) is None and suspended(Standing.LIFT_REQUESTED) is None


def test_the_division_asks_and_the_bureau_consents_or_refuses():
    asked = request_lift(indicator_id="ind-1", standing=Standing.SUSPENDED, reason="已整改", by="农业处-王", now=NOW)
    assert asked.reason == "已整改"
    lifted = decide_lift(indicator_id="ind-1", standing=Standing.LIFT_REQUESTED, consent=True, reason="同意",
                         by="监督局-孙", now=NOW)
    assert lifted.consent and lifted.decided_by == "监督局-孙"


@pytest.mark.parametrize("standing,consent", [
    pytest.param(Standing.SUSPENDED, True, id="no-consent-before-the-division-asks"),
    pytest.param(Standing.LIFTED, False, id="nothing-to-refuse-once-lifted"),
])
def test_a_decision_without_a_request_waiting_is_out_of_turn(standing, consent):
    with pytest.raises(StepOutOfTurn) as refused:
        decide_lift(indicator_id="ind-1", standing=standing, consent=consent, reason="x", by="监督局-孙", now=NOW)
    assert refused.value.status == 409


def test_asking_twice_is_out_of_turn():
    with pytest.raises(StepOutOfTurn):
        request_lift(indicator_id="ind-1", standing=Standing.LIFT_REQUESTED, reason="再次", by="农业处-王", now=NOW)
