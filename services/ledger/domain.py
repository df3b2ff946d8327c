"""The indicator (预算指标) aggregate: registration and the balance identity. No I/O."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from backbone.errors import InvalidInput
from contracts.ledger import IndicatorRegistered
from contracts.values import DIVISIONS, ORG_UNITS


@dataclass(frozen=True)
class Balance:
    """amount − allocated − paid + refunded = available."""

    amount: Decimal
    allocated: Decimal
    paid: Decimal
    refunded: Decimal

    @property
    def available(self) -> Decimal:
        return self.amount - self.allocated - self.paid + self.refunded


def register_indicator(*, indicator_id: str, fields: dict[str, Any], today: date) -> IndicatorRegistered:
    """RegisterIndicator → IndicatorRegistered, after the checks that need no database."""
    errors = []
    if fields["org_unit"] not in ORG_UNITS:
        errors.append({"field": "org_unit", "message": f"unknown org unit {fields['org_unit']!r}"})
    if fields["owner_division"] not in DIVISIONS:
        errors.append({"field": "owner_division", "message": f"unknown division {fields['owner_division']!r}"})
    if fields["amount"] <= 0:
        errors.append({"field": "amount", "message": "amount must be greater than 0"})
    issued, received = fields.get("issued_on"), fields.get("received_on")
    if issued and received and received < issued:
        errors.append({"field": "received_on", "message": "received before the document was issued"})
    if errors:
        raise InvalidInput("the indicator is not valid: " + ", ".join(e["field"] for e in errors), errors=errors)
    return IndicatorRegistered(indicator_id=indicator_id, registered_on=today, **fields)
