"""The conditions of rules: a safe expression language over facts (simpleeval's; never Python `eval` of a rule).

A rule says `payment.settlement_method == "cash" and payment.amount > params.cash_single`.
Facts are plain dicts reached with dots; money stays Decimal, and a decimal literal in a
condition is read as Decimal too, so that no float ever touches an amount. Expressions are
parsed, checked against the allow-list and compiled once (`compiler`), when the rule is loaded: a rule that does
not parse never goes into force, and judging a payment runs no parser and walks no tree.
"""

import ast
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from simpleeval import InvalidExpression, SimpleEval

from backbone.workdays import SHANGHAI, default_calendar
from services.alerting.rules.compiler import compile_condition


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


# What a condition may be made of: facts reached with dots, literals, arithmetic without powers, comparisons,
# and the functions above. No method calls, no subscripts, no comprehensions: nothing that can loop or grow
# without bound, and no attribute that leads out of the facts (`_`-names are never reached).
ALLOWED_NODES = (
    ast.Expression, ast.Expr, ast.Name, ast.Load, ast.Attribute, ast.Constant, ast.List, ast.Tuple,
    ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.UAdd,
    ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod,
    ast.Compare, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot,
    ast.IfExp, ast.Call,
)
MAX_SOURCE = 2000  # characters of one expression
MAX_TEXT = 500  # characters of a text literal
MAX_NUMBER = 10**15  # a number literal's magnitude (the ledger holds less than 10**12 元)
MAX_ITEMS = 100  # items of a list literal


def check_shape(source: str, tree: ast.AST) -> None:
    """Refuse what the allow-list does not name, with the reason (ExpressionError)."""
    if len(source) > MAX_SOURCE:
        raise ExpressionError(f"an expression has at most {MAX_SOURCE} characters")
    for node in ast.walk(tree):
        if not isinstance(node, ALLOWED_NODES):
            raise ExpressionError(f"{type(node).__name__} is not allowed in a condition ({ast.unparse(node)!r})"
                                  if isinstance(node, ast.expr) else f"{type(node).__name__} is not allowed")
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            raise ExpressionError(f"the attribute {node.attr!r} is not a fact")
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            raise ExpressionError(f"the name {node.id!r} is not a fact")
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS
                                               and not node.keywords):
            raise ExpressionError(f"only these functions can be called: {', '.join(sorted(FUNCTIONS))}")
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, str | bytes) and len(value) > MAX_TEXT:
                raise ExpressionError(f"a text in a condition has at most {MAX_TEXT} characters")
            if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) > MAX_NUMBER:
                raise ExpressionError(f"a number in a condition is at most {MAX_NUMBER} in size")
        if isinstance(node, ast.List | ast.Tuple) and len(node.elts) > MAX_ITEMS:
            raise ExpressionError(f"a list in a condition has at most {MAX_ITEMS} items")


class Expression:
    """A parsed condition or value expression."""

    def __init__(self, source: str) -> None:
        self.source = source
        if len(source) > MAX_SOURCE:
            raise ExpressionError(f"an expression has at most {MAX_SOURCE} characters")
        try:
            self._tree = SimpleEval.parse(source)
        except (SyntaxError, InvalidExpression, RecursionError, ValueError) as exc:
            raise ExpressionError(f"{source[:200]!r} is not a valid expression: {exc}") from exc
        check_shape(source, self._tree)
        try:
            self._compiled = compile_condition(source, self._tree, FUNCTIONS)
        except RecursionError as exc:
            # Nested deeper than Python compiles: it would have failed at every evaluation instead.
            raise ExpressionError(f"{source[:200]!r} is nested too deeply") from exc
        # The facts a condition names (a payment rule naming `indicator` waits for the indicator).
        self.facts = frozenset(node.id for node in ast.walk(self._tree)
                               if isinstance(node, ast.Name) and node.id not in FUNCTIONS)

    def evaluate(self, facts: Mapping[str, Any]) -> Any:
        try:
            return self._compiled(facts)
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
