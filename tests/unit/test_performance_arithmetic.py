"""Target comparison, deviation and scoring of 绩效指标: every comparison kind, zero targets, exact decimals; a
report's actuals measured against the goal's indicators, its period, and money progress."""

from decimal import Decimal as D

import pytest
from pydantic import ValidationError

from backbone.errors import InvalidInput
from services.performance.domain import (Grade, IndicatorTarget, check_weights, compare, fiscal_period_end, measure,
                                         money_progress, return_id_of, returns_of, score, unmeasured)

TOLERANCE = D("0.20")


def indicator(comparison: str, **fields) -> IndicatorTarget:
    return IndicatorTarget(level1="产出指标", level2="数量指标", name=fields.pop("name", "帮扶户数"),
                           comparison=comparison, unit="户", weight=fields.pop("weight", D("100")), **fields)


@pytest.mark.parametrize("target,actual,met,deviation,severe,achievement", [
    pytest.param(indicator("gte", target=D("120")), D("150"), True, D("0"), False, D("1"), id="gte-exceeded"),
    pytest.param(indicator("gte", target=D("120")), D("100"), False, D("-0.1667"), False, D("0.8333"),
                 id="gte-short-within-tolerance"),
    pytest.param(indicator("gte", target=D("120")), D("60"), False, D("-0.5000"), True, D("0.5000"),
                 id="gte-severely-short"),
    pytest.param(indicator("gte", target=D("0")), D("0"), True, D("0"), False, D("1"), id="gte-zero-target-met"),
    pytest.param(indicator("lte", target=D("3")), D("3"), True, D("0"), False, D("1"), id="lte-at-target"),
    pytest.param(indicator("lte", target=D("3")), D("4"), False, D("0.3333"), True, D("0.6667"), id="lte-overrun"),
    pytest.param(indicator("lte", target=D("0")), D("1"), False, None, True, D("0"), id="lte-zero-target-any-overrun"),
    pytest.param(indicator("eq", target=D("100")), D("100.00"), True, D("0"), False, D("1"), id="eq-met"),
    pytest.param(indicator("eq", target=D("100")), D("110"), False, D("0.1000"), False, D("0.9000"), id="eq-over"),
    pytest.param(indicator("eq", target=D("0")), D("0.01"), False, None, True, D("0"), id="eq-zero-target-missed"),
    pytest.param(indicator("range", target_low=D("0.95"), target_high=D("1.00")), D("0.97"), True, D("0"), False,
                 D("1"), id="range-inside"),
    pytest.param(indicator("range", target_low=D("0.95"), target_high=D("1.00")), D("0.76"), False, D("-0.2000"),
                 False, D("0.8000"), id="range-below-at-tolerance"),
    pytest.param(indicator("range", target_low=D("10"), target_high=D("20")), D("25"), False, D("0.2500"), True,
                 D("0.7500"), id="range-above"),
    pytest.param(indicator("range", target_low=D("0"), target_high=D("0")), D("-1"), False, None, True, D("0"),
                 id="range-zero-bounds"),
])
def test_quantitative_indicators(target, actual, met, deviation, severe, achievement):
    outcome = compare(target, actual, TOLERANCE)
    assert (outcome.met, outcome.deviation, outcome.severe, outcome.achievement) == (met, deviation, severe,
                                                                                     achievement)
    assert outcome.deviation is None or outcome.deviation.as_tuple().exponent == -4, "exact to four places"


@pytest.mark.parametrize("grade,met,deviation,severe,achievement", [
    pytest.param(Grade.ACHIEVED, True, D("0.0000"), False, D("1"), id="achieved"),
    pytest.param(Grade.PARTLY, False, D("-0.5000"), False, D("0.5"), id="partly"),
    pytest.param(Grade.NOT_ACHIEVED, False, D("-1.0000"), True, D("0"), id="not-achieved"),
])
def test_qualitative_indicators(grade, met, deviation, severe, achievement):
    qualitative = IndicatorTarget(level1="效益指标", level2="社会效益指标", name="群众生产生活条件", comparison="qualitative",
                                  target_text="明显改善", weight=D("100"))
    outcome = compare(qualitative, grade, TOLERANCE)
    assert (outcome.met, outcome.deviation, outcome.severe, outcome.achievement) == (met, deviation, severe,
                                                                                     achievement)


def test_a_third_is_never_a_float():
    outcome = compare(indicator("gte", target=D("3")), D("2"), TOLERANCE)
    assert outcome.deviation == D("-0.3333") and isinstance(outcome.achievement, D)


@pytest.mark.parametrize("fields,message", [
    pytest.param({"level1": "产出指标", "level2": "社会效益指标"}, "level2", id="level2-outside-its-level1"),
    pytest.param({"level1": "过程指标"}, "expected one of", id="unknown-level1"),
    pytest.param({"comparison": "range", "target_low": D("5")}, "target_high", id="range-needs-both-bounds"),
    pytest.param({"comparison": "range", "target_low": D("5"), "target_high": D("1")}, "above",
                 id="range-upside-down"),
    pytest.param({"comparison": "qualitative"}, "target_text", id="qualitative-needs-words"),
    pytest.param({"comparison": "gte"}, "target", id="gte-needs-a-target"),
])
def test_a_malformed_indicator_is_refused_with_the_reason(fields, message):
    base = {"level1": "产出指标", "level2": "数量指标", "name": "x", "comparison": "gte", "target": None, "weight": 100}
    with pytest.raises(ValidationError) as refused:
        IndicatorTarget(**(base | fields))
    assert message in str(refused.value)


def test_weights_add_up_to_100_and_a_goal_has_an_output_indicator():
    satisfaction = IndicatorTarget(level1="满意度指标", level2="服务对象满意度指标", name="满意度", comparison="gte",
                                   target=D("90"), unit="%", weight=D("30"))
    assert [f["message"] for f in check_weights([satisfaction])] == [
        "the weights add up to 30, not 100", "at least one 产出指标 is required"]
    assert check_weights([indicator("gte", target=D("1"), weight=D("70")), satisfaction]) == []


def test_self_evaluation_scores_by_weight_and_grades():
    items = [indicator("gte", target=D("120"), weight=D("60"), name="a"),
             indicator("lte", target=D("3"), weight=D("40"), name="b")]
    outcomes = [compare(items[0], D("100"), TOLERANCE), compare(items[1], D("3"), TOLERANCE)]
    total, grade = score(items, outcomes)
    assert (total, grade) == (D("90.00"), "优")  # 60 × 0.8333 + 40 = 89.998 → 90.00
    assert score(items, [compare(items[0], D("60"), TOLERANCE), outcomes[1]]) == (D("70.00"), "中")


GOAL = [indicator("gte", target=D("120"), weight=D("60"), name="帮扶户数").model_dump(mode="json"),
        IndicatorTarget(level1="效益指标", level2="社会效益指标", name="生活条件", comparison="qualitative",
                        target_text="明显改善", weight=D("40")).model_dump(mode="json")]


def test_actuals_are_measured_against_the_indicators_of_their_names():
    measured = measure(GOAL, [("生活条件", "partly"), ("帮扶户数", "100")])
    assert [(m.target.name, m.actual, m.outcome.deviation, m.points) for m in measured] == [
        ("生活条件", "partly", D("-0.5000"), D("20.00")), ("帮扶户数", "100", D("-0.1667"), D("50.00"))]
    assert unmeasured(GOAL, measured) == []
    assert unmeasured(GOAL, measured[:1]) == ["帮扶户数"]


def test_a_number_reported_as_an_integer_is_kept_as_text():
    (measured,) = measure(GOAL, [("帮扶户数", 150)])
    assert (measured.actual, measured.outcome.met) == ("150", True)


def test_every_fault_of_the_actuals_is_named_at_once_by_index():
    with pytest.raises(InvalidInput) as refused:
        measure(GOAL, [("帮扶户数", "12o"), ("没有的指标", "1"), ("生活条件", "very"), ("帮扶户数", "130"),
                       ("帮扶户数", "140")])
    faults = refused.value.extra["errors"]
    assert [f["field"] for f in faults] == ["actuals[0].actual", "actuals[1].name", "actuals[2].actual",
                                            "actuals[3].name", "actuals[4].name"]
    assert faults[1]["message"] == "not an indicator of this goal"
    # An indicator counted twice would earn its weight twice in the self-evaluation.
    assert faults[3]["message"] == faults[4]["message"] == "the same indicator twice"


def test_a_reporting_period_ends_within_the_goals_fiscal_year():
    assert str(fiscal_period_end("2026-H1", 2026)) == "2026-06-30"
    assert str(fiscal_period_end("2026-Q3", 2026)) == "2026-09-30"
    with pytest.raises(ValueError, match="the goal is for 2027"):
        fiscal_period_end("2026-12", 2027)


def test_money_progress_is_paid_less_refunded_over_the_amount():
    assert money_progress(D("300000.00"), D("120000.00"), D("20000.00")) == D("0.3333")
    assert money_progress(D("0.00"), D("0.00"), D("0.00")) is None, "an indicator without an amount has no progress"
    assert money_progress(None, D("0.00"), D("0.00")) is None


def test_each_return_of_a_filing_has_its_own_name_which_the_filing_again_answers():
    # The goals and the self-evaluation are one per goal; a report's id names its goal and period already.
    assert return_id_of("g-1", "goals", 1) == "g-1/goals#1"
    assert return_id_of("g-1", "evaluation", 2) == "g-1/evaluation#2"
    assert return_id_of("g-1", "g-1-2026-H1", 1) == "g-1-2026-H1#1"
    returned = ("performance.FilingReviewed", {"filing": "goals", "decision": "returned"})
    history = [("performance.GoalsSet", {}), returned, ("performance.GoalsSet", {}), returned,
               ("performance.FilingReviewed", {"filing": "goals", "decision": "accepted"}),
               ("performance.FilingReviewed", {"filing": "g-1-2026-H1", "decision": "returned"})]
    assert returns_of(history, "goals") == 2 and returns_of(history, "g-1-2026-H1") == 1
    assert returns_of(history, "evaluation") == 0
