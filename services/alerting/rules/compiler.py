"""A checked condition compiled once into a Python function of the facts: simpleeval's semantics without walking
the tree on every evaluation.

The function is built from a new tree made here, never from the rule's own nodes: every fact is read through
`_path`/`_attr` (a name is a key of the facts, never a Python name), every call goes to one of the functions
allowed, and `+`/`*` go through the guarded operators. Comparisons, `and`/`or`, `not`, `-`, `/`, `//`, `%` and
`x if c else y` are Python's own, which are what simpleeval's operators call. The errors are simpleeval's, with
its messages: an unknown name `NameNotDefined`, a missing fact `AttributeDoesNotExist`, a refused attribute
`FeatureNotAvailable`.

One difference, on purpose: simpleeval looked through every intermediate value for a module or a forbidden
function (the whole `payment` dict before reading `payment.amount`); here the value a condition reads is looked
at, and the facts it passes through are not. Facts are built from events and rows (text, numbers, dates, dicts
and lists of them), so the search never found anything, and it was a large part of a condition's time.
"""

import ast
import types
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from simpleeval import (DISALLOW_FUNCTIONS, DISALLOW_METHODS, DISALLOW_PREFIXES, AttributeDoesNotExist,
                        FeatureNotAvailable, NameNotDefined, safe_add)

Compiled = Callable[[Mapping[str, Any]], Any]

_DICT_ATTRIBUTES = frozenset(dir(dict))
_REFUSED_PREFIXES = tuple(DISALLOW_PREFIXES)
_REFUSED_METHODS = frozenset(DISALLOW_METHODS)
_PLAIN = frozenset({int, float, str, bool, type(None), bytes, complex, Decimal})
_FACTS = "_f"


def times(a: Any, b: Any) -> Any:
    """Multiplication of numbers only: repeating a text or a list is how a condition would fill the memory."""
    if not all(isinstance(x, int | float | Decimal) and not isinstance(x, bool) for x in (a, b)):
        raise TypeError("only numbers can be multiplied")
    return a * b


def _refuse_forbidden(value: Any) -> None:
    """simpleeval's look into a value for a module or a forbidden function (FeatureNotAvailable)."""
    if type(value) in _PLAIN:
        return
    if isinstance(value, types.ModuleType):
        raise FeatureNotAvailable("Sorry, modules are not allowed")
    if isinstance(value, list | tuple | set | frozenset | dict):
        for element in value.values() if isinstance(value, dict) else value:
            if type(element) not in _PLAIN:
                _refuse_forbidden(element)
    elif callable(value) and value in DISALLOW_FUNCTIONS:
        raise FeatureNotAvailable("This function is forbidden")


def _checked(value: Any) -> Any:
    if type(value) not in _PLAIN:
        _refuse_forbidden(value)
    return value


def _reached(item: Any) -> Any:
    """An attribute's value as simpleeval lets it through."""
    if type(item) in _PLAIN:
        return item
    if isinstance(item, types.ModuleType):
        raise FeatureNotAvailable("Sorry, modules are not allowed in attribute access")
    if callable(item) and item in DISALLOW_FUNCTIONS:
        raise FeatureNotAvailable("This function is forbidden")
    return item


def _step(value: Any, attr: str, source: str) -> Any:
    """`value.attr` as simpleeval reads it: a key of a plain dict at once, else getattr, else the key."""
    if type(value) is dict and attr not in _DICT_ATTRIBUTES:
        # A plain dict has no attribute of this name: simpleeval's getattr fails and it reads the key.
        try:
            return _reached(value[attr])
        except KeyError:
            raise AttributeDoesNotExist(attr, source) from None
    try:
        return _reached(getattr(value, attr))
    except (AttributeError, TypeError):
        try:
            return _reached(value[attr])
        except (KeyError, TypeError):
            raise AttributeDoesNotExist(attr, source) from None


def _name(facts: Mapping[str, Any], name: str, functions: Mapping[str, Any], source: str) -> Any:
    try:
        return facts[name]
    except (TypeError, KeyError):
        if name in functions:
            return functions[name]
        raise NameNotDefined(name, source) from None


def _refusal(attr: str) -> FeatureNotAvailable | None:
    """Why simpleeval refuses an attribute before it looks at the value, or None."""
    if attr.startswith(_REFUSED_PREFIXES):
        return FeatureNotAvailable(f"Sorry, access to __attributes  or func_ attributes is not available. ({attr})")
    if attr in _REFUSED_METHODS:
        return FeatureNotAvailable(f"Sorry, this method is not available. ({attr})")
    return None


def _raise(error: Exception) -> Any:
    raise error


class _Emitter:
    """Turns a checked condition into a new tree of calls to the helpers above, with its own globals."""

    def __init__(self, source: str, functions: Mapping[str, Any]) -> None:
        self.functions = functions
        self.globals: dict[str, Any] = {"__builtins__": {}, "_add": safe_add, "_times": times, "_checked": _checked}
        src, fns = source, functions

        def path(facts: Mapping[str, Any], names: tuple[str, ...]) -> Any:
            value = _name(facts, names[0], fns, src)
            for attr in names[1:]:
                value = _step(value, attr, src)
            return _checked(value)

        def attr(value: Any, name: str) -> Any:
            return _checked(_step(value, name, src))

        self.globals |= {"_path": path, "_attr": attr, "_raise": _raise}

    def constant(self, value: Any) -> ast.expr:
        name = f"_k{len(self.globals)}"
        self.globals[name] = value
        return ast.Name(name, ast.Load())

    def call(self, helper: str, *args: ast.expr) -> ast.expr:
        return ast.Call(ast.Name(helper, ast.Load()), list(args), [])

    def emit(self, node: ast.AST) -> ast.expr:
        match node:
            case ast.Expr(value=value):
                return self.emit(value)
            case ast.Constant(value=value):
                # 0.05 in a condition is exact: amounts are compared and multiplied as Decimal.
                return self.constant(Decimal(repr(value)) if isinstance(value, float) else value)
            case ast.Name() | ast.Attribute():
                return self.reach(node)
            case ast.Call(func=ast.Name(id=name), args=args, keywords=[]) if name in self.functions:
                function = self.functions[name]
                if function in DISALLOW_FUNCTIONS:
                    return self.call("_raise", self.constant(FeatureNotAvailable("This function is forbidden")))
                return self.call("_checked", ast.Call(self.constant(function), [self.emit(a) for a in args], []))
            case ast.BinOp(left=left, op=ast.Add(), right=right):
                return self.call("_add", self.emit(left), self.emit(right))
            case ast.BinOp(left=left, op=ast.Mult(), right=right):
                return self.call("_times", self.emit(left), self.emit(right))
            case ast.BinOp(left=left, op=ast.Sub() | ast.Div() | ast.FloorDiv() | ast.Mod() as op, right=right):
                return ast.BinOp(self.emit(left), type(op)(), self.emit(right))
            case ast.UnaryOp(op=ast.Not() | ast.USub() | ast.UAdd() as op, operand=operand):
                return ast.UnaryOp(type(op)(), self.emit(operand))
            case ast.BoolOp(op=ast.And() | ast.Or() as op, values=values):
                return ast.BoolOp(type(op)(), [self.emit(v) for v in values])
            case ast.Compare(left=left, ops=ops, comparators=comparators) if all(
                    isinstance(o, _COMPARISONS) for o in ops):
                return ast.Compare(self.emit(left), [type(o)() for o in ops], [self.emit(c) for c in comparators])
            case ast.IfExp(test=test, body=body, orelse=orelse):
                return ast.IfExp(self.emit(test), self.emit(body), self.emit(orelse))
            case ast.List(elts=elts):
                return ast.List([self.emit(e) for e in elts], ast.Load())
            case ast.Tuple(elts=elts):
                return ast.Tuple([self.emit(e) for e in elts], ast.Load())
        raise ValueError(f"{type(node).__name__} cannot be compiled")

    def reach(self, node: ast.Name | ast.Attribute) -> ast.expr:
        """A dotted fact: one call for a chain from a name, else an attribute of a computed value."""
        attrs: list[str] = []
        head: ast.AST = node
        while isinstance(head, ast.Attribute):
            # simpleeval refuses an attribute before it evaluates what the attribute is of, outermost first.
            if (refused := _refusal(head.attr)) is not None:
                return self.call("_raise", self.constant(refused))
            attrs.append(head.attr)
            head = head.value
        attrs.reverse()
        if isinstance(head, ast.Name):
            return self.call("_path", ast.Name(_FACTS, ast.Load()), self.constant((head.id, *attrs)))
        value = self.emit(head)
        for attr in attrs:
            value = self.call("_attr", value, self.constant(attr))
        return value


_COMPARISONS = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot)


def compile_condition(source: str, tree: ast.AST, functions: Mapping[str, Any]) -> Compiled:
    """The function of the facts that evaluates `tree` (checked by expressions.check_shape) as simpleeval would."""
    emitter = _Emitter(source, functions)
    body = emitter.emit(tree)
    function = ast.Expression(ast.Lambda(ast.arguments([], [ast.arg(_FACTS)], None, [], [], None, []), body))
    code = compile(ast.fix_missing_locations(function), f"<condition {source[:60]!r}>", "eval")
    return eval(code, emitter.globals)  # noqa: S307 - a tree of our own helpers, built above
