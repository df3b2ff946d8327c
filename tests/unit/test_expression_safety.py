"""Rule conditions are data written by people: what could hang or exhaust the alerting service, or reach out of
the facts, is refused when the rule is read, with the reason; ordinary conditions still work."""

from decimal import Decimal

import pytest

from services.alerting.rules.expressions import Expression, ExpressionError


@pytest.mark.parametrize("source,reason", [
    pytest.param("4000000**4000000", "Pow is not allowed", id="power-bomb"),
    pytest.param("'a'.ljust(2**31)", "only these functions can be called", id="string-bomb"),
    pytest.param("'a'.ljust(2147483648)", "only these functions can be called", id="method-call"),
    pytest.param("payment.__class__", "is not a fact", id="dunder-attribute"),
    pytest.param("payment._secret", "is not a fact", id="private-attribute"),
    pytest.param("__import__('os')", "only these functions can be called", id="import"),
    pytest.param("__builtins__", "is not a fact", id="builtins"),
    pytest.param("[x for x in range(10**9)]", "ListComp is not allowed", id="comprehension"),
    pytest.param("(lambda: 1)()", "only these functions can be called", id="lambda"),
    pytest.param("(lambda: 1)", "Lambda is not allowed", id="lambda-uncalled"),
    pytest.param("payment.purpose[0]", "Subscript is not allowed", id="subscript"),
    pytest.param("1 << 4000000", "LShift is not allowed", id="shift-bomb"),
    pytest.param("10000000000000000 > 1", "is at most", id="number-too-large"),
    pytest.param("'" + "x" * 600 + "' == payment.purpose", "at most 500 characters", id="text-too-long"),
    pytest.param("payment.amount > 1" + " + 1" * 600, "at most 2000 characters", id="expression-too-long"),
    pytest.param("max(key=len)", "only these functions", id="keyword-arguments"),
])
def test_bombs_and_escapes_are_refused_when_the_rule_is_read(source, reason):
    with pytest.raises(ExpressionError) as refused:
        Expression(source)
    assert reason in str(refused.value)


def test_text_and_lists_are_not_multiplied_at_run_time():
    grow = Expression("payment.purpose * payment.times")
    with pytest.raises(ExpressionError, match="only numbers can be multiplied"):
        grow.evaluate({"payment": {"purpose": "招待", "times": 2**31}})


def test_ordinary_conditions_still_evaluate_exactly():
    condition = Expression('payment.settlement_method == "cash" and payment.amount * 2 > params.limit - 0.05 '
                           'and contains_any(payment.purpose, ["招待", "会议"]) and not payment.refunded')
    facts = {"payment": {"settlement_method": "cash", "amount": Decimal("1000.00"), "purpose": "会议费",
                         "refunded": False}, "params": {"limit": Decimal("2000.00")}}
    assert condition.evaluate(facts) is True
    assert Expression("payment.amount - decimal('0.10')").evaluate(facts) == Decimal("999.90")


def test_an_evaluation_sees_only_its_own_facts():
    # One evaluator serves every condition of a thread: what an earlier evaluation was given is gone.
    first, second = Expression("payment.amount > 1"), Expression("window.count >= 1")
    assert first.evaluate({"payment": {"amount": Decimal("2")}, "window": {"count": 3}}) is True
    assert second.evaluate({"window": {"count": 0}}) is False
    with pytest.raises(ExpressionError):
        first.evaluate({"window": {"count": 3}})
