"""Rule ZC-001: a payment above the indicator's available balance is a red light."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from contracts.alerting import AlertSubject
from contracts.values import AlertLevel
from services.alerting.domain import alert_id_for, raise_alert
from services.alerting.rules import starter_rules
from services.alerting.rules.spending import PaymentAgainstBalance, payment_exceeds_available

RULE = starter_rules()["spending.payment_exceeds_available"]


def fact(amount, paid_before, indicator_amount="1000.00", allocated="0", refunded="0"):
    return PaymentAgainstBalance(
        payment_id="P-2", indicator_id="ind-1", amount=Decimal(amount), indicator_amount=Decimal(indicator_amount),
        allocated=Decimal(allocated), paid_before=Decimal(paid_before), refunded=Decimal(refunded))


@pytest.mark.parametrize("f,fires", [
    pytest.param(fact("500.00", "600.00"), True, id="overdraws-by-100"),
    pytest.param(fact("400.00", "600.00"), False, id="near-miss-exactly-exhausts"),
    pytest.param(fact("0.01", "1000.00"), True, id="one-fen-over"),
    pytest.param(fact("300.00", "600.00", allocated="200.00"), True, id="allocated-to-children-counts"),
    pytest.param(fact("300.00", "800.00", refunded="100.00"), False, id="refund-restores-balance"),
])
def test_fires_only_when_the_balance_goes_below_zero(f, fires):
    assert (payment_exceeds_available(RULE, f) is not None) is fires


def test_the_explanation_names_the_values_and_the_basis():
    breach = payment_exceeds_available(RULE, fact("500.00", "600.00"))
    event = raise_alert(breach=breach, subject=AlertSubject(kind="payment", id="P-2", indicator_id="ind-1"),
                        period="2026", org_unit="220102", owner_division="agriculture", now=datetime.now(UTC))
    assert event.level is AlertLevel.RED
    assert event.explanation["values"] | {} == {
        "indicator_id": "ind-1", "indicator_amount": "1000.00", "allocated": "0", "paid_before": "600.00",
        "refunded": "0", "available_before": "400.00", "payment_amount": "500.00", "available_after": "-100.00"}
    assert "预算法" in event.explanation["basis"]
    assert "-100.00" in event.explanation["summary"]


def test_the_same_breach_is_always_the_same_alert():
    subject = AlertSubject(kind="payment", id="P-2")
    assert alert_id_for(RULE.id, subject, "2026") == alert_id_for(RULE.id, subject, "2026")
    assert alert_id_for(RULE.id, subject, "2026") != alert_id_for(RULE.id, subject, "2027")


def test_the_starter_rule_is_national_with_its_level_fixed():
    assert RULE.national and RULE.level is AlertLevel.RED and RULE.category.value == "支出管理"
