"""Judging records against the rules in force: facts in, breaches out. No I/O.

Facts are what a condition can name: `payment`, `payee` (the registries' word on a person
payee), `indicator` (its balance before the payment, or the registered indicator), `window`
(for window rules) and `params` (the rule's parameters).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from contracts.alerting import AlertSubject
from contracts.payments import PaymentRecorded
from services.alerting.rules import Rule, WindowSpec
from services.alerting.rules.expressions import fill, lookup


@dataclass(frozen=True)
class Breach:
    """A rule broken by a subject, with the values that broke it and the words that explain it."""

    rule: Rule
    subject: AlertSubject
    values: dict[str, Any]
    summary: str
    period: str | None = None  # a window rule's own period (e.g. the month), else the fiscal year


@dataclass(frozen=True)
class IndicatorBalance:
    """An indicator's balance as alerting has learned it, just before a payment."""

    indicator_id: str
    amount: Decimal
    allocated: Decimal
    paid_before: Decimal
    refunded: Decimal
    fiscal_year: int | None
    org_unit: str | None
    owner_division: str | None
    suspended: bool = False  # 暂缓拨付 by a red light's measure, until lifted


def payment_facts(payment: Mapping[str, Any], balance: IndicatorBalance | None) -> dict[str, Any]:
    """The facts of a recorded payment (`PaymentRecorded` as a dict) and of its indicator, if known."""
    registry = payment.get("payee_registry")
    payee = {
        "checked": registry is not None,
        "on_poor_list": bool(registry and registry.get("poor_status")),
        "poor_status": registry.get("poor_status") if registry else None,
        "public_employee": bool(registry and registry.get("public_employee")),
        "employer": registry.get("employer") if registry else None,
        "name_differs": bool(registry and registry.get("name_matches") is False),
        "registered_name": registry.get("registered_name") if registry else None,
    }
    indicator: dict[str, Any] = {"known": balance is not None, "indicator_id": payment.get("indicator_id")}
    if balance is not None:
        available_before = balance.amount - balance.allocated - balance.paid_before + balance.refunded
        available_after = available_before - payment["amount"]
        indicator |= {
            "amount": balance.amount, "allocated": balance.allocated, "paid_before": balance.paid_before,
            "refunded": balance.refunded, "available_before": available_before, "available_after": available_after,
            "overdrawn": max(-available_after, Decimal("0.00")), "fiscal_year": balance.fiscal_year,
            "org_unit": balance.org_unit, "owner_division": balance.owner_division, "suspended": balance.suspended,
        }
    return {"payment": dict(payment), "payee": payee, "indicator": indicator}


def indicator_facts(indicator: Mapping[str, Any]) -> dict[str, Any]:
    """The facts of a registered indicator (`IndicatorRegistered` as a dict)."""
    return {"indicator": dict(indicator)}


def in_window(spec: WindowSpec, payment: Mapping[str, Any]) -> bool:
    """Whether a window rule judges this payment at all (it is of the kind the window counts)."""
    return all(str(payment.get(name)) == value for name, value in spec.where.items())


def needs_indicator(rule: Rule) -> bool:
    """Whether a payment rule can only be judged once the payment's indicator is known."""
    return rule.condition is not None and "indicator" in rule.condition.facts


def payment_rules(payment: Mapping[str, Any], rules: Iterable[Rule], *, indicator_rules_only: bool = False) -> tuple[list[Rule], list[Rule]]:
    """The event rules and the window rules that judge a payment (after a change of its indicator, only those
    about the indicator); a window rule only when the payment is of the kind its window counts."""
    chosen = [r for r in rules if needs_indicator(r) or not indicator_rules_only]
    return ([r for r in chosen if r.kind == "event"],
            [r for r in chosen if r.kind == "window" and r.window is not None and in_window(r.window, payment)])


def judge_payment(event_rules: list[Rule], window_rules: list[Rule], facts: Mapping[str, Any],
                  windows: Mapping[str, Mapping[str, Any]], org_unit: str | None) -> list[Breach]:
    """A payment's breaches: its event rules on its facts, then each window rule with its window (by rule id)."""
    breaches = judge(event_rules, PaymentRecorded.event_type, facts, org_unit)
    for rule in window_rules:
        breaches += judge([rule], PaymentRecorded.event_type, {**facts, "window": windows[rule.id]}, org_unit)
    return breaches


def judge(rules: Iterable[Rule], event_type: str, facts: Mapping[str, Any], org_unit: str | None, *,
          strict: bool = False) -> list[Breach]:
    """Every rule on `event_type` that the facts break, within the rule's scope (`strict`: see Rule.holds)."""
    breaches = []
    for rule in rules:
        condition = rule.condition
        if condition is None or event_type not in rule.on or not rule.applies_to(org_unit):
            continue
        seen = {**facts, "params": rule.params}
        if rule.holds(condition, seen, strict=strict):
            breaches.append(Breach(rule, subject_of(rule, seen), {path: shown(lookup(path, seen)) for path in rule.values},
                                   fill(rule.summary, seen), lookup("window.period", seen)))
    return breaches


def subject_of(rule: Rule, facts: Mapping[str, Any]) -> AlertSubject:
    if rule.subject == "indicator":
        indicator_id = facts["indicator"]["indicator_id"]
        return AlertSubject(kind="indicator", id=indicator_id, indicator_id=indicator_id)
    if rule.subject == "org_unit":
        return AlertSubject(kind="org_unit", id=facts["district"]["org_unit"])
    if rule.subject == "issued_indicator":
        issued = facts["issued"]
        return AlertSubject(kind="issued_indicator", id=issued["issue_id"], indicator_id=issued.get("indicator_id"))
    payment = facts["payment"]
    if rule.subject == "payee":
        return AlertSubject(kind="payee", id=payment["payee_id_index"] or payment["payee_account"],
                            indicator_id=payment.get("indicator_id"))
    return AlertSubject(kind="payment", id=payment["payment_id"], indicator_id=payment.get("indicator_id"))


def shown(value: Any) -> Any:
    """A fact as the explanation carries it: exact decimals and dates as text."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [shown(v) for v in value]
    return value


def month_facts(month: Mapping[str, Any], *, indicator: Mapping[str, Any] | None = None,
                district: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The facts of a month-end judgment: the month, the time gone by, and an indicator's or a district's money
    (`own`: what it keeps for itself, not passed down; `spent`: paid less refunded; progress as shares)."""
    facts: dict[str, Any] = {"month": dict(month), "progress": {"time": month["time_progress"]}}
    for name, money in (("indicator", indicator), ("district", district)):
        if money is None:
            continue
        own = money["amount"] - money["allocated"]
        spent = money["paid"] - money["refunded"]
        facts[name] = {**money, "own": own, "spent": spent,
                       "payment_progress": (spent / own).quantize(Decimal("0.0001")) if own > 0 else None,
                       "allocation_progress": ((money["allocated"] / money["amount"]).quantize(Decimal("0.0001"))
                                               if money["amount"] > 0 else None)}
    return facts


# One record to judge in a backtest: its event type, its facts, and the org unit it belongs to.
Case = tuple[str, dict[str, Any], str | None]


def judge_cases(definition: Mapping[str, Any], cases: list[Case]) -> list[tuple[dict[str, Any], str | None]]:
    """A backtest's judgment of `cases` by the rule `definition` (a draft's, as JSON), run in a worker with
    limits: each breach as the alert would show it, with its org unit. ExpressionError when a condition
    cannot be evaluated on the facts (the proposer's to hear of)."""
    rule = Rule(**definition)
    found = []
    for event_type, facts, org_unit in cases:
        for breach in judge([rule], event_type, facts, org_unit, strict=True):
            found.append(({"level": rule.level.value, "subject": breach.subject.model_dump(),
                           "summary": breach.summary, "values": breach.values}, org_unit))
    return found
