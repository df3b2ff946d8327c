"""Measures of a red light (第二十二条(三)) as pure decisions: a recovery (收回资金) and what the ledger answered,
a referred case's outcome (移交), and who handles the alerts the offices own."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from backbone.identity import Principal
from backbone.lifecycle import StepOutOfTurn
from contracts.alerting import DisposalSheet
from contracts.values import AlertLevel, AlertStatus
from services.alerting.dispositions import owns, relations
from services.alerting.lifecycle import AlertState
from services.alerting.measures import Recovery, RecoveryOutstanding, RecoveryState, check_correction, conclude, recover
from services.ledger.domain import recoverable
from services.sync.reports.figures import MeasureFact, district_measures

NOW = datetime(2026, 11, 28, 9, tzinfo=UTC)
RED = AlertState(alert_id="a-1", rule_id="r", level=AlertLevel.RED, status=AlertStatus.OPEN, org_unit="220102",
                 owner_division="agriculture", escalate_to=None, version=3)


def sheet(amount: str | None) -> DisposalSheet:
    return DisposalSheet(number="CLD-2026-000009", findings="收回违规资金", measures=["收回资金"], handler="农业处-王",
                         returned_amount=Decimal(amount) if amount else None)


def ordered(amount: str, standing: Recovery | None = None, available: str = "100000.00"):
    return recover(RED, "ZC-003", sheet(amount), "ind-1", Decimal(available), standing, NOW)


@pytest.mark.parametrize(("ordered_", "available", "withdrawn"), [
    pytest.param("3000.00", "98000.00", "3000.00", id="whole"),
    pytest.param("3000.00", "1200.00", "1200.00", id="short"),
    pytest.param("3000.00", "0.00", "0.00", id="nothing-left"),
    pytest.param("3000.00", "-5.00", "0.00", id="overdrawn"),
])
def test_the_ledger_withdraws_what_is_available_and_no_more(ordered_, available, withdrawn):
    assert recoverable(Decimal(ordered_), Decimal(available)) == Decimal(withdrawn)


def test_a_recovery_stands_ordered_until_the_ledger_answers_then_recovered_or_short():
    assert Recovery(Decimal("3000"), Decimal("0"), orders=1, answers=0).state is RecoveryState.ORDERED
    assert Recovery(Decimal("3000"), Decimal("0"), orders=1, answers=0).shortfall is None
    assert Recovery(Decimal("3000"), Decimal("3000"), orders=1, answers=1).state is RecoveryState.RECOVERED
    short = Recovery(Decimal("3000"), Decimal("1200"), orders=1, answers=1)
    assert (short.state, short.shortfall) == (RecoveryState.SHORT, Decimal("1800"))


def test_a_second_sheet_orders_nothing_while_an_order_stands_and_the_rest_after_a_shortfall():
    first = ordered("3000.00")
    assert (first.amount, first.rest) == (Decimal("3000.00"), False)
    waiting = Recovery(Decimal("3000"), Decimal("0"), orders=1, answers=0)
    assert ordered("1000.00", waiting) is None
    assert ordered("1000.00", Recovery(Decimal("3000"), Decimal("3000"), orders=1, answers=1)) is None
    short = Recovery(Decimal("3000"), Decimal("1200"), orders=1, answers=1)
    rest = ordered("1800.00", short)
    assert (rest.amount, rest.rest) == (Decimal("1800.00"), True), "the rest asks for nothing more"
    # More than is short: refused, naming the field.
    with pytest.raises(ValueError) as refused:
        ordered("1800.01", short)
    assert refused.value.args[0] == "body.returned_amount"


@pytest.mark.parametrize(("amount", "available"), [
    pytest.param(None, "100.00", id="no-amount"), pytest.param("0.00", "100.00", id="zero"),
    pytest.param("100.01", "100.00", id="more-than-left"),
])
def test_a_recovery_the_sheet_cannot_carry_is_refused_naming_the_amount(amount, available):
    with pytest.raises(ValueError) as refused:
        recover(RED, "ZC-003", sheet(amount), "ind-1", Decimal(available), None, NOW)
    assert refused.value.args[0] == "body.returned_amount"


def test_a_red_light_is_not_corrected_while_money_ordered_back_is_not_back():
    check_correction(None)
    check_correction(Recovery(Decimal("3000"), Decimal("3000"), orders=1, answers=1))
    with pytest.raises(RecoveryOutstanding):
        check_correction(Recovery(Decimal("3000"), Decimal("0"), orders=1, answers=0))
    with pytest.raises(RecoveryOutstanding) as short:
        check_correction(Recovery(Decimal("3000"), Decimal("1200"), orders=1, answers=1))
    assert short.value.status == 409 and short.value.extra["shortfall"] == "1800"


def outcome(recorded, decision="立案查处", findings="查实套取资金"):
    return conclude(number="YJ-2026-000001", alert_id="a-1", org_unit="220102", owner_division="agriculture",
                    recorded=recorded, decision=decision, findings=findings, by="监督局-孙", now=NOW)


def test_a_referrals_outcome_is_recorded_once():
    first = outcome(None)
    assert (first.decision, first.concluded_by) == ("立案查处", "监督局-孙")
    # The same outcome again: nothing new.
    assert outcome(("立案查处", "查实套取资金")) is None
    # Another one: out of turn.
    with pytest.raises(StepOutOfTurn):
        outcome(("立案查处", "查实套取资金"), decision="不予追究")


@pytest.mark.parametrize(("principal", "owner", "handles"), [
    pytest.param(Principal(subject="b", roles=["budget"]), "budget", True, id="budget-office-owns-its-alerts"),
    pytest.param(Principal(subject="t", roles=["treasury"]), "treasury", True, id="treasury-owns-its-alerts"),
    pytest.param(Principal(subject="p", roles=["poverty_office"]), "poverty_office", True, id="poverty-office"),
    pytest.param(Principal(subject="t", roles=["treasury"]), "budget", False, id="treasury-not-budgets"),
    pytest.param(Principal(subject="t", roles=["treasury"]), "agriculture", False, id="treasury-not-a-divisions"),
    pytest.param(Principal(subject="a", roles=["division"], division="agriculture"), "agriculture", True,
                 id="division-its-own"),
    pytest.param(Principal(subject="a", roles=["division"], division="agriculture"), "budget", False,
                 id="division-not-an-offices"),
    pytest.param(Principal(subject="x", roles=["budget"], division="agriculture"), "agriculture", False,
                 id="a-division-code-without-the-division-role"),
])
def test_whoever_holds_the_owning_offices_role_handles_its_alerts(principal, owner, handles):
    assert owns(principal, owner) is handles
    alert = AlertState(alert_id="a", rule_id="r", level=AlertLevel.YELLOW, status=AlertStatus.OPEN, org_unit="220100",
                       owner_division=owner, escalate_to=None, version=1)
    assert ("owner" in relations(principal, alert)) is handles


def test_the_monthly_figures_count_each_districts_measures_and_the_money_recovered_and_short():
    facts = [MeasureFact("recovery", "220102", Decimal("3000.00"), Decimal("0.00")),
             MeasureFact("recovery", "220102", Decimal("1200.00"), Decimal("1800.00")),
             MeasureFact("suspension", "220102"), MeasureFact("referral", "220103"), MeasureFact("circular", None)]
    assert [m.model_dump(mode="json") for m in district_measures(facts)] == [
        {"org_unit": "220100", "org_unit_name": "长春市本级", "recoveries": 0, "recovered": "0.00", "short": "0.00",
         "suspensions": 0, "referrals": 0, "circulars": 1},
        {"org_unit": "220102", "org_unit_name": "南关区", "recoveries": 2, "recovered": "4200.00", "short": "1800.00",
         "suspensions": 1, "referrals": 0, "circulars": 0},
        {"org_unit": "220103", "org_unit_name": "宽城区", "recoveries": 0, "recovered": "0.00", "short": "0.00",
         "suspensions": 0, "referrals": 1, "circulars": 0}]
    assert district_measures([]) == []
