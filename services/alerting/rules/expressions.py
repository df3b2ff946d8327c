"""The conditions of rules: a safe expression language over facts (simpleeval; never Python `eval`).

A rule says `payment.settlement_method == "cash" and payment.amount > params.cash_single`.
Facts are plain dicts reached with dots; money stays Decimal, and a decimal literal in a
condition is read as Decimal too, so that no float ever touches an amount. Expressions are
parsed once, when the rule is loaded: a rule that does not parse never goes into force.
"""

import ast
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from simpleeval import EvalWithCompoundTypes, InvalidExpression

from backbone.workdays import SHANGHAI, default_calendar


class ExpressionError(ValueError):
    """A condition that does not parse or cannot be evaluated on the facts given."""


def _contains_any(text: str | None, words: Iterable[str]) -> bool:
    return bool(text) and any(word in text for word in words)


def _working_days(start: date | datetime | None, end: date | datetime | None) -> int:
    """Working days after `start` up to and including `end` (Beijing dates)."""
    if start is None or end is None:
        return 0
    return default_calendar().workdays_between(_day(start), _day(end))


def _day(value: date | datetime) -> date:
    return value.astimezone(SHANGHAI).date() if isinstance(value, datetime) else value


FUNCTIONS = {
    "contains_any": _contains_any,
    "working_days": _working_days,
    "days_between": lambda start, end: (_day(end) - _day(start)).days if start and end else 0,
    "decimal": lambda value: Decimal(str(value)),
    "abs": abs, "len": len, "min": min, "max": max,
}


class _Evaluator(EvalWithCompoundTypes):
    def _eval_constant(self, node: ast.Constant) -> Any:
        # 0.05 in a condition is exact: amounts are compared and multiplied as Decimal.
        if isinstance(node.value, float):
            return Decimal(repr(node.value))
        return super()._eval_constant(node)


class Expression:
    """A parsed condition or value expression."""

    def __init__(self, source: str) -> None:
        self.source = source
        try:
            self._tree = _Evaluator.parse(source)
        except (SyntaxError, InvalidExpression) as exc:
            raise ExpressionError(f"{source!r} is not a valid expression: {exc}") from exc
        # The facts a condition names (a payment rule naming `indicator` waits for the indicator).
        self.facts = frozenset(node.id for node in ast.walk(self._tree)
                               if isinstance(node, ast.Name) and node.id not in FUNCTIONS)

    def evaluate(self, facts: Mapping[str, Any]) -> Any:
        evaluator = _Evaluator(functions=FUNCTIONS, names=dict(facts))
        try:
            return evaluator.eval(self.source, previously_parsed=self._tree)
        except (InvalidExpression, TypeError, KeyError, ArithmeticError) as exc:
            raise ExpressionError(f"{self.source!r} failed: {type(exc).__name__}: {exc}") from exc

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"


PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*)\}")


def fill(template: str, facts: Mapping[str, Any]) -> str:
    """A plain-words summary: `{payment.amount}` replaced by the fact, decimals written out in full."""
    def value(match: re.Match[str]) -> str:
        found = lookup(match.group(1), facts)
        if isinstance(found, Decimal):
            return format(found, "f")
        return "" if found is None else str(found)
    return PLACEHOLDER.sub(value, template)


def lookup(path: str, facts: Mapping[str, Any]) -> Any:
    """The fact at a dotted path, or None."""
    found: Any = facts
    for part in path.split("."):
        found = found.get(part) if isinstance(found, Mapping) else None
    return found
