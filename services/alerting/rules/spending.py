"""支出管理 rules evaluated on one payment. Pure functions: facts in, a breach or None out."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from services.alerting.rules import Rule


@dataclass(frozen=True)
class Breach:
    """A rule broken by a subject, with the values that broke it."""

    rule: Rule
    values: dict[str, Any]
    summary: str


@dataclass(frozen=True)
class PaymentAgainstBalance:
    """A payment and the balance of its indicator just before it."""

    payment_id: str
    indicator_id: str
    amount: Decimal
    indicator_amount: Decimal
    allocated: Decimal
    paid_before: Decimal
    refunded: Decimal

    @property
    def available_before(self) -> Decimal:
        return self.indicator_amount - self.allocated - self.paid_before + self.refunded

    @property
    def available_after(self) -> Decimal:
        return self.available_before - self.amount


def payment_exceeds_available(rule: Rule, fact: PaymentAgainstBalance) -> Breach | None:
    """The payment leaves its indicator's available balance below zero."""
    if fact.available_after >= -rule.decimal("tolerance"):
        return None
    values = {
        "indicator_id": fact.indicator_id,
        "indicator_amount": fact.indicator_amount,
        "allocated": fact.allocated,
        "paid_before": fact.paid_before,
        "refunded": fact.refunded,
        "available_before": fact.available_before,
        "payment_amount": fact.amount,
        "available_after": fact.available_after,
    }
    summary = (
        f"支付 {fact.payment_id} 金额 {fact.amount} 元，支付前指标可用余额 {fact.available_before} 元，"
        f"支付后可用余额 {fact.available_after} 元，超出 {-fact.available_after} 元。"
    )
    return Breach(rule, {k: format(v, "f") if isinstance(v, Decimal) else v for k, v in values.items()}, summary)
