"""Conditions compiled once judge as simpleeval judged them: every condition of the starter library, and conditions
made to reach the corners (unknown names, missing facts, refused attributes, functions, chains), evaluated by
simpleeval the way alerting evaluated them before and by the compiled function, on varied facts with facts
missing, None or of the wrong kind: the same value, or the same error with the same words."""

import ast
import random
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from simpleeval import DEFAULT_OPERATORS, EvalWithCompoundTypes, InvalidExpression

from services.alerting.rules import starter_rules
from services.alerting.rules.compiler import times
from services.alerting.rules.engine import IndicatorBalance, month_facts, payment_facts
from services.alerting.rules.expressions import FUNCTIONS, Expression, ExpressionError

_OPERATORS = {op: fn for op, fn in DEFAULT_OPERATORS.items()
              if op in (ast.Add, ast.Sub, ast.Div, ast.FloorDiv, ast.Mod, ast.Eq, ast.NotEq, ast.Gt, ast.Lt, ast.GtE,
                        ast.LtE, ast.Not, ast.USub, ast.UAdd, ast.In, ast.NotIn, ast.Is, ast.IsNot)} | {ast.Mult: times}


class _Reference(EvalWithCompoundTypes):
    """How alerting evaluated a condition before it was compiled (simpleeval, decimal literals as Decimal)."""

    def _eval_constant(self, node: ast.Constant) -> Any:
        if isinstance(node.value, float):
            return Decimal(repr(node.value))
        return super()._eval_constant(node)


def reference(expression: Expression, facts: dict[str, Any]) -> Any:
    # A copy of the functions: simpleeval adds list, tuple, dict and set to the table it is given.
    evaluator = _Reference(operators=_OPERATORS, functions=dict(FUNCTIONS), names=dict(facts))
    try:
        return evaluator.eval(expression.source, previously_parsed=expression._tree)
    except (InvalidExpression, TypeError, KeyError, ArithmeticError) as exc:
        raise ExpressionError(f"{expression.source!r} failed: {type(exc).__name__}: {exc}") from exc


def outcome(evaluate, expression: Expression, facts: dict[str, Any]) -> tuple[str, Any]:
    try:
        value = evaluate(expression, facts)
    except ExpressionError as exc:
        return "error", str(exc)
    except Exception as exc:  # noqa: BLE001 - what escapes the wrapping must escape both alike
        return "raised", f"{type(exc).__name__}: {exc}"
    return "value", (type(value).__name__, value if not callable(value) else repr(value))


def _payment(**overrides: Any) -> dict[str, Any]:
    return {"payment_id": "P-1", "indicator_id": "I-1", "amount": Decimal("5000.00"), "settlement_method": "cash",
            "payee_type": "organization", "payee_name": "某某财政局", "payee_account": "0710001200000001",
            "purpose": "招待费", "paid_at": datetime(2026, 3, 2, 2, tzinfo=UTC), "org_unit": "220102",
            "payee_id_index": None, "payee_registry": None, **overrides}


def _balance(available: str) -> IndicatorBalance:
    return IndicatorBalance(indicator_id="I-1", amount=Decimal(available), allocated=Decimal("0.00"),
                            paid_before=Decimal("0.00"), refunded=Decimal("0.00"), fiscal_year=2026,
                            org_unit="220102", owner_division="agriculture", suspended=available == "1.00")


def base_facts() -> list[dict[str, Any]]:
    person = {"poor_status": None, "public_employee": True, "employer": "某局", "name_matches": False,
              "registered_name": "张三"}
    payments = [payment_facts(_payment(), _balance("1000.00")), payment_facts(_payment(), None),
                payment_facts(_payment(settlement_method="transfer", amount=Decimal("10.00"), indicator_id=None,
                                       payee_type="person", payee_registry=person, purpose="产业发展补助"),
                              _balance("1.00")),
                payment_facts(_payment(payee_registry={**person, "poor_status": "not_lifted",
                                                       "name_matches": True}), _balance("100000.00"))]
    windows = [{"count": 0, "total": Decimal("0.00"), "period": "2026-03"},
               {"count": 3, "total": Decimal("60000.00"), "period": "2026-03"}]
    indicator = {"indicator_id": "I-1", "issued_on": date(2026, 3, 2), "received_on": date(2026, 3, 3),
                 "registered_on": date(2026, 3, 20), "poverty_tag": True, "level": "central", "org_unit": "220102",
                 "parent_id": None}
    month = {"month": "2026-11", "closed_on": date(2026, 11, 30), "fiscal_year": 2026,
             "time_progress": Decimal("0.9151")}
    money = {"amount": Decimal("1000.00"), "allocated": Decimal("0.00"), "paid": Decimal("800.00"),
             "refunded": Decimal("0.00"), "indicator_id": "I-1", "org_unit": "220104", "name": "朝阳区"}
    events = [{"event": {"indicator_id": "I-1", "level": "central", "org_unit": "220102",
                         "received_on": date(2026, 3, 3), "parent_id": None, "poverty_tag": True, "sheet": "S-1",
                         "step": "propose", "kind": "division", "outcome": "matched", "to_status": "open",
                         "to_level": "red"}, "event_type": "alerting.AlertTransitioned"},
              {"event": {"level": "yellow", "step": "send", "kind": "city"}, "event_type": "alerting.AlertRaised"}]
    facts = [p | {"window": w} for p in payments for w in windows]
    facts += [{"indicator": indicator}, {"indicator": {**indicator, "issued_on": None, "poverty_tag": False}},
              month_facts(month, indicator=money), month_facts(month, district=money),
              month_facts(month, indicator={**money, "allocated": Decimal("1000.00")}),
              {"report": {"severe_count": 1}, "indicator": {"indicator_id": "I-1"}},
              {"issued": {"outcome": "mismatched", "issue_id": "X-1"}}, *events]
    return facts


_ODD = [None, "text", 0, Decimal("-1"), [], True]


def varied(facts: dict[str, Any], rng: random.Random) -> list[dict[str, Any]]:
    """The facts as given, and with one fact missing, None or of another kind (at the top or one level down)."""
    out = [facts]
    for name in facts:
        out.append({k: v for k, v in facts.items() if k != name})
        out.append(facts | {name: rng.choice(_ODD)})
        inner = facts[name]
        if isinstance(inner, dict) and inner:
            key = rng.choice(sorted(inner))
            out.append(facts | {name: {k: v for k, v in inner.items() if k != key}})
            out.append(facts | {name: inner | {key: rng.choice(_ODD)}})
    return out


def conditions() -> list[tuple[str, Expression, dict[str, Any]]]:
    """Each condition of the starter library with its rule's parameters."""
    return [(f"{rule.id}-{n}", condition, rule.params) for rule in starter_rules().values()
            for n, condition in enumerate((rule.condition, rule.start_condition, rule.expect_condition))
            if condition is not None]


CORNERS = [
    "payment", "payment.items", "payment.keys", "payment.amount.real", "payment.purpose.upper", "abs", "max",
    "nothing", "nothing.at_all", "payment.nothing", "payment.payee_registry.poor_status", "payment.func_code",
    "payment.format", "nothing.format", "1 < payment.amount < 10000 < 20000", "payment.amount > 1 > 0",
    "payment.purpose + '费'", "payment.purpose * 2", "payment.amount * 0.1 == 500", "payment.amount / 0",
    "payment.amount // 3 % 7", "-payment.amount", "+payment.amount", "not payment", "payment.amount is None",
    "payment.indicator_id is not None", "'招待' in payment.purpose", "'招待' not in payment.purpose",
    "payment.amount in [1, 2, 5000.00]", "(1, payment.amount)", "payment.amount if payment.purpose else 0",
    "max(payment.amount, 10000) - min(1, 2)", "len(payment.purpose)", "decimal(payment.amount) + 1",
    "days_between(payment.paid_at, payment.paid_at)", "working_days(payment.paid_at, payment.paid_at)",
    "contains_any(payment.nothing, ['a'])", "contains_any(5, ['a'])", "(payment.amount if True else 0).real",
    "max(payment.amount, 1).nothing", "None and nothing", "nothing or payment.amount", "payment.amount == 5000",
    "1 + 'a'", "[1] + [2]", "'a' + 1", "abs.nothing", "len(payment)", "payment.payee_registry.func_x.y",
]


@pytest.mark.parametrize("name,expression,params", conditions(), ids=[c[0] for c in conditions()])
def test_every_starter_condition_judges_as_simpleeval_did(name, expression, params):
    rng = random.Random(name)
    compared = 0
    for base in base_facts():
        for facts in varied(base | {"params": params}, rng):
            assert outcome(Expression.evaluate, expression, facts) == outcome(reference, expression, facts), facts
            compared += 1
    assert compared > 100


@pytest.mark.parametrize("source", CORNERS)
def test_corners_of_the_language_evaluate_as_simpleeval_did(source):
    expression = Expression(source)
    rng = random.Random(source)
    for base in base_facts()[:8]:
        for facts in varied(base, rng):
            assert outcome(Expression.evaluate, expression, facts) == outcome(reference, expression, facts), facts


def test_the_functions_allowed_are_not_widened_by_evaluating():
    # simpleeval added list, tuple, dict and set to the table it was given, so that a rule read after the first
    # evaluation could call them and one read before could not.
    Expression("payment.amount > 1").evaluate({"payment": {"amount": Decimal("2")}})
    with pytest.raises(ExpressionError, match="only these functions can be called"):
        Expression("set([1]) == set([1])")
