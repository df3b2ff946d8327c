"""The starter rule library: each rule fires on its case and stays quiet on the near miss."""

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from contracts.alerting import AlertSubject
from contracts.values import AlertLevel
from services.alerting.domain import alert_id_for, raise_alert
from services.alerting.rules import Rule, starter_rules
from services.alerting.rules.engine import IndicatorBalance, indicator_facts, judge, month_facts, payment_facts
from services.alerting.rules.expressions import Expression, ExpressionError

RULES = starter_rules()
PAID = "payments.PaymentRecorded"
REGISTERED = "ledger.IndicatorRegistered"


def payment(**overrides) -> dict:
    return {"payment_id": "P-2", "indicator_id": "ind-1", "payer_name": "南关区农业农村局",
            "payer_account": "0710001200000001", "amount": Decimal("500.00"),
            "paid_at": datetime(2026, 3, 2, 10, tzinfo=UTC), "purpose": "产业发展补助", "settlement_method": "transfer",
            "payment_method": "direct", "payee_name": "某农民专业合作社", "payee_account": "6222000011112222",
            "payee_type": "organization", "payee_id_masked": None, "payee_id_index": None, "payee_credit_code": None,
            "payee_registry": None, "org_unit": "220102", "content_hash": "x"} | overrides


def person(poor_status="not_lifted", public_employee=False, name_matches=True, **overrides) -> dict:
    return payment(payee_type="person", payee_name="张三", payee_id_masked="220102********1234",
                   payee_id_index="ab" * 32, payee_registry={
                       "poor_status": poor_status, "poor_org_unit": "220102" if poor_status else None,
                       "public_employee": public_employee, "employer": "某局" if public_employee else None,
                       "name_matches": name_matches, "registered_name": None if name_matches else "李四"},
                   **overrides)


def balance(paid_before="600.00", amount="1000.00", allocated="0.00", refunded="0.00") -> IndicatorBalance:
    return IndicatorBalance(indicator_id="ind-1", amount=Decimal(amount), allocated=Decimal(allocated),
                            paid_before=Decimal(paid_before), refunded=Decimal(refunded), fiscal_year=2026,
                            org_unit="220102", owner_division="agriculture")


def indicator(**overrides) -> dict:
    return {"indicator_id": "ind-9", "doc_no": "长财农指〔2026〕12号", "fund_name": "衔接资金",
            "fund_nature": "general_budget", "function_code": "2130504", "economic_code": "50901",
            "budget_project": "产业发展", "amount": Decimal("1000.00"), "fiscal_year": 2026, "level": "central",
            "issued_on": date(2026, 2, 2), "received_on": date(2026, 2, 3), "registered_on": date(2026, 2, 6),
            "owner_division": "agriculture", "org_unit": "220102", "poverty_tag": True, "parent_id": None} | overrides


def fired(rule_id: str, event_type: str, facts: dict) -> bool:
    event_rules = [r for r in RULES.values() if r.kind == "event"]
    return any(b.rule.id == rule_id for b in judge(event_rules, event_type, facts, "220102"))


CASES = [
    # ZC-001 payment above the available balance
    pytest.param("spending.payment_exceeds_available", payment(), balance("600.00"), True, id="ZC-001-overdraws"),
    pytest.param("spending.payment_exceeds_available", payment(amount=Decimal("400.00")), balance("600.00"), False,
                 id="ZC-001-near-miss-exhausts-exactly"),
    pytest.param("spending.payment_exceeds_available", payment(amount=Decimal("300.00")),
                 balance("600.00", allocated="200.00"), True, id="ZC-001-children-count"),
    pytest.param("spending.payment_exceeds_available", payment(amount=Decimal("300.00")),
                 balance("800.00", refunded="100.00"), False, id="ZC-001-refund-restores"),
    pytest.param("spending.payment_exceeds_available", payment(), None, False, id="ZC-001-indicator-unknown"),
    # ZC-010 paid on an indicator suspended by a red light's measure (暂缓拨付)
    pytest.param("spending.paid_while_suspended", payment(), replace(balance("0.00"), suspended=True), True,
                 id="ZC-010-paid-while-suspended"),
    pytest.param("spending.paid_while_suspended", payment(), balance("0.00"), False, id="ZC-010-near-miss-lifted"),
    pytest.param("spending.paid_while_suspended", payment(), None, False, id="ZC-010-near-miss-indicator-unknown"),
    # ZC-002 payment without an indicator
    pytest.param("spending.payment_without_indicator", payment(indicator_id=None), None, True, id="ZC-002-none"),
    pytest.param("spending.payment_without_indicator", payment(), balance("0"), False, id="ZC-002-near-miss"),
    # ZC-003 cash above the single limit
    pytest.param("spending.cash_above_limit", payment(settlement_method="cash", amount=Decimal("1000.01")),
                 balance("0"), True, id="ZC-003-cash-over"),
    pytest.param("spending.cash_above_limit", payment(settlement_method="cash", amount=Decimal("1000.00")),
                 balance("0"), False, id="ZC-003-near-miss-at-limit"),
    pytest.param("spending.cash_above_limit", payment(amount=Decimal("9000.00")), balance("0"), False,
                 id="ZC-003-transfer-any-amount"),
    # ZC-005 transfer to a government body or a 实有资金 account
    pytest.param("spending.transfer_to_government_account", payment(payee_name="某镇人民政府"), balance("0"), True,
                 id="ZC-005-government"),
    pytest.param("spending.transfer_to_government_account", payment(payee_name="某村股份经济合作社"), balance("0"),
                 False, id="ZC-005-near-miss-cooperative"),
    # ZC-006 forbidden purposes
    pytest.param("spending.forbidden_purpose", payment(purpose="村委会议误餐及招待费"), balance("0"), True,
                 id="ZC-006-hospitality"),
    pytest.param("spending.forbidden_purpose", payment(purpose="产业发展补助"), balance("0"), False,
                 id="ZC-006-near-miss-subsidy"),
    # DR-001 payee not on the 建档立卡 list
    pytest.param("per_person.payee_not_registered_poor", person(poor_status=None), balance("0"), True,
                 id="DR-001-not-registered"),
    pytest.param("per_person.payee_not_registered_poor", person(poor_status="lifted"), balance("0"), False,
                 id="DR-001-near-miss-lifted-still-registered"),
    pytest.param("per_person.payee_not_registered_poor", payment(), balance("0"), False,
                 id="DR-001-organisation-not-checked"),
    # DR-002 payee on the 财政供养人员 list
    pytest.param("per_person.payee_is_public_employee", person(public_employee=True), balance("0"), True,
                 id="DR-002-public-employee"),
    pytest.param("per_person.payee_is_public_employee", person(), balance("0"), False, id="DR-002-near-miss"),
    # DR-004 payee name differs from the registered name
    pytest.param("per_person.payee_name_mismatch", person(name_matches=False), balance("0"), True,
                 id="DR-004-other-name"),
    pytest.param("per_person.payee_name_mismatch", person(poor_status=None, name_matches=None), balance("0"), False,
                 id="DR-004-near-miss-on-no-registry"),
]


@pytest.mark.parametrize("rule_id,paid,known,fires", CASES)
def test_each_payment_rule_fires_on_its_case_and_not_on_the_near_miss(rule_id, paid, known, fires):
    assert fired(rule_id, PAID, payment_facts(paid, known)) is fires


@pytest.mark.parametrize("rule_id,registered,fires", [
    # 2026-02-02 (Mon) + 5 working days = 2026-02-09; the Spring Festival holidays start mid-February.
    pytest.param("indicator.registered_late", indicator(registered_on=date(2026, 2, 10)), True, id="ZB-001-6-days"),
    pytest.param("indicator.registered_late", indicator(registered_on=date(2026, 2, 9)), False,
                 id="ZB-001-near-miss-5-days"),
    pytest.param("indicator.registered_late", indicator(issued_on=date(2026, 2, 13), registered_on=date(2026, 2, 24)),
                 False, id="ZB-001-spring-festival-not-counted"),
    pytest.param("indicator.elements_incomplete", indicator(received_on=None), True, id="ZB-004-no-receipt-date"),
    pytest.param("indicator.elements_incomplete", indicator(), False, id="ZB-004-near-miss-complete"),
])
def test_each_indicator_rule_fires_on_its_case_and_not_on_the_near_miss(rule_id, registered, fires):
    assert fired(rule_id, REGISTERED, indicator_facts(registered)) is fires


WINDOW_CASES = [
    pytest.param("spending.cash_monthly_total", payment(settlement_method="cash", amount=Decimal("900.00")),
                 {"count": 5, "total": Decimal("5000.01"), "period": "2026-03"}, True, id="ZC-004-month-over"),
    pytest.param("spending.cash_monthly_total", payment(settlement_method="cash", amount=Decimal("900.00")),
                 {"count": 5, "total": Decimal("5000.00"), "period": "2026-03"}, False, id="ZC-004-near-miss-at-limit"),
    pytest.param("spending.cash_monthly_total", payment(amount=Decimal("900.00")),
                 {"count": 5, "total": Decimal("9000.00"), "period": "2026-03"}, False,
                 id="ZC-004-this-one-by-transfer"),
    pytest.param("per_person.paid_twice_for_same_purpose", person(), {"count": 1, "total": Decimal("1000.00"),
                                                                      "period": None}, True, id="DR-003-twice"),
    pytest.param("per_person.paid_twice_for_same_purpose", person(), {"count": 0, "total": Decimal("500.00"),
                                                                      "period": None}, False, id="DR-003-near-miss-once"),
]


@pytest.mark.parametrize("rule_id,paid,window,fires", WINDOW_CASES)
def test_each_window_rule_fires_on_its_case_and_not_on_the_near_miss(rule_id, paid, window, fires):
    breaches = judge([RULES[rule_id]], PAID, {**payment_facts(paid, balance("0")), "window": window}, "220102")
    assert bool(breaches) is fires
    if fires and window["period"]:
        assert breaches[0].period == window["period"], "one alert per payee and month"


def test_every_starter_rule_has_a_case():
    covered = ({p.values[0] for p in CASES} | {p.values[0] for p in WINDOW_CASES}
               | {"indicator.registered_late", "indicator.elements_incomplete", "spending.behind_schedule",
                  "workflow.district_behind", "performance.severe_deviation",
                  "indicator.registered_amount_differs"})  # test_inbound_exchange.py
    deadline_rules = {"indicator.not_allocated_in_time", "indicator.document_missing",
                      "spending.funds_idle", "workflow.alert_not_handled", "workflow.rules_not_proposed",
                      "workflow.rules_not_reported", "performance.goals_missing",
                          "performance.report_missing", "workflow.division_report_missing",
                          "workflow.city_report_not_sent",
                      "spending.payment_indicator_unknown", "performance.rectification_overdue",  # test_deadline_rules.py
                      "indicator.issued_not_registered"}  # test_inbound_exchange.py
    assert covered | deadline_rules == set(RULES)


def test_the_explanation_names_the_values_and_the_basis():
    breach = next(b for b in judge([RULES["spending.payment_exceeds_available"]], PAID,
                                   payment_facts(payment(), balance("600.00")), "220102")
                  if b.rule.id == "spending.payment_exceeds_available")
    event = raise_alert(breach=breach, period="2026", org_unit="220102", owner_division="agriculture",
                        now=datetime.now(UTC))
    assert event.level is AlertLevel.RED
    assert event.explanation["values"] == {
        "indicator.indicator_id": "ind-1", "indicator.amount": "1000.00", "indicator.allocated": "0.00",
        "indicator.paid_before": "600.00", "indicator.refunded": "0.00", "indicator.available_before": "400.00",
        "payment.amount": "500.00", "indicator.available_after": "-100.00"}
    assert "预算法" in event.explanation["basis"] and "超出 100.00 元" in event.explanation["summary"]


def test_the_same_breach_is_always_the_same_alert():
    subject = AlertSubject(kind="payment", id="P-2")
    rule_id = "spending.payment_exceeds_available"
    assert alert_id_for(rule_id, subject, "2026") == alert_id_for(rule_id, subject, "2026")
    assert alert_id_for(rule_id, subject, "2026") != alert_id_for(rule_id, subject, "2027")


def test_a_rule_out_of_scope_does_not_judge():
    rule = RULES["spending.payment_exceeds_available"].model_copy(update={"scope": ["220103"]})
    assert judge([rule], PAID, payment_facts(payment(), balance("600.00")), "220102") == []


@pytest.mark.parametrize("source", ["__import__('os').system('id')", "payment.__class__", "open('/etc/passwd')",
                                    "[x for x in range(10**9)]", "payment.amount >"])
def test_conditions_cannot_reach_python(source):
    with pytest.raises(ExpressionError):
        Expression(source).evaluate({"payment": payment()})


def test_decimal_literals_in_conditions_stay_exact():
    assert Expression("payment.amount * 0.1 == 50").evaluate({"payment": payment()}) is True


def test_a_rule_whose_condition_does_not_parse_is_refused():
    with pytest.raises(ValueError):
        Rule(**{**RULES["spending.cash_above_limit"].model_dump(), "when": "payment.amount >"})


MONTH = {"month": "2026-11", "closed_on": date(2026, 11, 30), "fiscal_year": 2026, "time_progress": Decimal("0.9151")}


def money(paid: str, amount: str = "1000.00", allocated: str = "0.00", **extra) -> dict:
    return {"amount": Decimal(amount), "allocated": Decimal(allocated), "paid": Decimal(paid),
            "refunded": Decimal("0.00"), **extra}


@pytest.mark.parametrize("rule_id,facts,fires", [
    pytest.param("spending.behind_schedule", month_facts(MONTH, indicator=money("800.00", indicator_id="i")), True,
                 id="ZC-008-80-percent-at-92-percent-of-the-year"),
    pytest.param("spending.behind_schedule", month_facts(MONTH, indicator=money("820.00", indicator_id="i")), False,
                 id="ZC-008-near-miss-within-tolerance"),
    pytest.param("spending.behind_schedule", month_facts(MONTH, indicator=money("0.00", allocated="1000.00",
                                                                                 indicator_id="i")),
                 False, id="ZC-008-all-passed-down-nothing-to-spend-here"),
    pytest.param("workflow.district_behind", month_facts(MONTH, district=money("700.00", org_unit="220104",
                                                                              name="朝阳区")), True,
                 id="LC-004-district-at-70-percent"),
    pytest.param("workflow.district_behind", month_facts(MONTH, district=money("770.00", org_unit="220104",
                                                                              name="朝阳区")), False,
                 id="LC-004-near-miss"),
])
def test_each_month_end_rule_fires_on_its_case_and_not_on_the_near_miss(rule_id, facts, fires):
    assert bool(judge([RULES[rule_id]], "alerting.MonthClosed", facts, "220104")) is fires


def test_the_time_schedule_is_the_share_of_the_year_gone_by():
    from backbone.workdays import year_progress
    assert year_progress(date(2026, 12, 31)) == Decimal("1.0000")
    assert year_progress(date(2026, 6, 30)) == Decimal("0.4959")  # 181 of 365 days
    assert year_progress(date(2028, 2, 29)) == Decimal("0.1639")  # 60 of 366 days


@pytest.mark.parametrize("severe,fires", [pytest.param(1, True, id="JX-002-one-severe"),
                                          pytest.param(0, False, id="JX-002-near-miss-none-severe")])
def test_jx002_fires_on_a_report_with_a_severe_deviation(severe, fires):
    facts = {"report": {"period": "2026-H1", "severe_count": severe, "time_progress": Decimal("0.4959"),
                        "money_progress": Decimal("0.3000")}, "indicator": {"indicator_id": "i"}}
    assert bool(judge([RULES["performance.severe_deviation"]], "performance.ProgressReported", facts,
                      "220102")) is fires


def test_a_rule_that_cannot_be_evaluated_on_the_facts_is_skipped_and_never_stops_the_payment():
    cash = RULES["spending.cash_above_limit"]
    broken = Rule(**cash.model_dump() | {"id": "local.broken", "when": "payment.purpose > 5"})
    facts = payment_facts(payment(settlement_method="cash", amount=Decimal("5000.00")), None)
    found = judge([broken, cash], "payments.PaymentRecorded", facts, "220102")
    assert [b.rule.id for b in found] == ["spending.cash_above_limit"], "the other rules still judge"
    with pytest.raises(ExpressionError, match="TypeError"):
        judge([broken], "payments.PaymentRecorded", facts, "220102", strict=True)
