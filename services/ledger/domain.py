"""The indicator (预算指标) aggregate: registration, allocation into child indicators (分配下达),
adjustments (调增 / 调减) and withdrawal (收回), with the invariants of the master ledger. No I/O.

An indicator's standing is its `Standing`: amount, what its children were given, and what was
paid from it net of refunds. Invariant: children never exceed the parent, so
available = amount − allocated − paid + refunded never goes below zero through a ledger command
(payments are observed, never refused, so they may still overdraw it: alerting says so).
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from backbone.errors import DomainError, InvalidInput, fault
from contracts.ledger import IndicatorAdjusted, IndicatorAllocated, IndicatorCorrected, IndicatorRegistered
from contracts.reference import check_economic_code, check_function_code
from contracts.values import CITY_ORG_UNIT, DIVISIONS, ORG_UNITS, FundNature, Level, Money

ZERO = Decimal("0.00")


class IndicatorOverAllocated(DomainError):
    """An allocation, decrease or withdrawal would take more than the indicator has available."""

    status = 422
    type_name = "indicator-over-allocated"
    title = "Not enough available on the indicator"


@dataclass(frozen=True)
class Standing:
    """Where an indicator stands: amount − allocated − paid + refunded = available."""

    amount: Decimal
    allocated: Decimal = ZERO
    paid: Decimal = ZERO
    refunded: Decimal = ZERO

    @property
    def available(self) -> Decimal:
        return self.amount - self.allocated - self.paid + self.refunded


@dataclass(frozen=True)
class ChildRequest:
    """One line of an allocation: how much goes to which org unit and division."""

    child_id: str
    amount: Decimal
    org_unit: str
    owner_division: str
    overrides: dict[str, Any]


# What a request body and a row of an indicator file are both read into, so it lives below both.
class IndicatorIn(BaseModel):
    """An indicator (预算指标) to register, with the elements of 第六条."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    doc_no: str = Field(min_length=1, max_length=100, description="指标文件号", examples=["长财农指〔2026〕12号"])
    fund_name: str = Field(min_length=1, max_length=200, description="资金名称")
    fund_nature: FundNature = Field(description="资金性质")
    function_code: str = Field(pattern=r"^\d{3}(\d{2}){0,2}$", description="支出功能分类科目", examples=["2130504"])
    economic_code: str = Field(pattern=r"^\d{3}(\d{2})?$", description="政府支出经济分类科目", examples=["50901"])
    budget_project: str = Field(min_length=1, max_length=200, description="预算项目")
    amount: Money = Field(description="金额")
    fiscal_year: int = Field(ge=2000, le=2100)
    level: Level
    issued_on: date | None = Field(None, description="文件印发日期")
    received_on: date | None = Field(None, description="接收日期")
    owner_division: str = Field(description="主管处室", examples=["agriculture"])
    org_unit: str = Field(examples=["220100"])
    poverty_tag: bool = Field(True, description="扶贫资金标识")
    parent_id: str | None = None


def _check_scope_codes(fields: dict[str, Any], prefix: str = "") -> list[dict[str, str]]:
    errors = []
    for name, check in (("function_code", check_function_code), ("economic_code", check_economic_code)):
        problem = check(fields[name]) if fields.get(name) is not None else None
        if problem:
            errors.append(fault(f"{prefix}{name}", problem))
    if fields["org_unit"] not in ORG_UNITS:
        errors.append(fault(f"{prefix}org_unit", f"unknown org unit {fields['org_unit']!r}"))
    if fields["owner_division"] not in DIVISIONS:
        errors.append(fault(f"{prefix}owner_division", f"unknown division {fields['owner_division']!r}"))
    return errors


def register_indicator(*, indicator_id: str, fields: dict[str, Any], today: date) -> IndicatorRegistered:
    """RegisterIndicator → IndicatorRegistered, after the checks that need no database."""
    errors = _check_scope_codes(fields)
    if fields["amount"] <= 0:
        errors.append(fault("amount", "amount must be greater than 0"))
    issued, received = fields.get("issued_on"), fields.get("received_on")
    if issued and received and received < issued:
        errors.append(fault("received_on", "received before the document was issued"))
    if errors:
        raise InvalidInput("the indicator is not valid: " + ", ".join(e["field"] for e in errors), errors=errors)
    return IndicatorRegistered(indicator_id=indicator_id, registered_on=today, **fields)


def registration_payload(*, indicator_id: str, row: IndicatorIn, today: date) -> dict[str, Any]:
    """`register_indicator`'s event in its stored JSON form, for a row that `register_indicator` has judged already
    (an import checks every row of its file before it writes any): without building and validating the event
    once more per row, most of an import's time."""
    return {**row.model_dump(mode="json"), "indicator_id": indicator_id, "registered_on": today.isoformat()}


def allocate(*, parent: IndicatorRegistered, standing: Standing, children: list[ChildRequest],
             today: date) -> tuple[list[IndicatorAllocated], list[IndicatorRegistered]]:
    """AllocateIndicator → one IndicatorAllocated on the parent and one child indicator per line."""
    errors = []
    for i, child in enumerate(children):
        errors += _check_scope_codes({"org_unit": child.org_unit, "owner_division": child.owner_division,
                                      **child.overrides}, prefix=f"allocations[{i}].")
        if child.amount <= 0:
            errors.append(fault(f"allocations[{i}].amount", "amount must be greater than 0"))
    if errors:
        raise InvalidInput("the allocation is not valid: " + ", ".join(e["field"] for e in errors), errors=errors)
    requested = sum((c.amount for c in children), ZERO)
    if requested > standing.available:
        raise IndicatorOverAllocated(
            f"indicator {parent.indicator_id} has {standing.available} available, {requested} was requested",
            indicator_id=parent.indicator_id, available=format(standing.available, "f"),
            requested=format(requested, "f"),
            errors=[fault("allocations", f"{requested} requested, {standing.available} available")],
        )
    allocated = [IndicatorAllocated(indicator_id=parent.indicator_id, child_id=c.child_id, amount=c.amount,
                                    org_unit=c.org_unit, owner_division=c.owner_division, allocated_on=today)
                 for c in children]
    inherited = parent.model_dump(exclude={"indicator_id", "amount", "org_unit", "owner_division", "parent_id",
                                           "registered_on", "level", "received_on"})
    registered = [
        IndicatorRegistered(**(inherited | c.overrides), indicator_id=c.child_id, amount=c.amount,
                            org_unit=c.org_unit, owner_division=c.owner_division, parent_id=parent.indicator_id,
                            level=Level.CITY if c.org_unit == CITY_ORG_UNIT else Level.DISTRICT,
                            received_on=today, registered_on=today)
        for c in children
    ]
    return allocated, registered


def adjust(*, indicator: IndicatorRegistered, standing: Standing, delta: Decimal, withdrawal: bool, reason: str,
           today: date) -> IndicatorAdjusted:
    """AdjustIndicator (调增 / 调减) or WithdrawFunds (收回) → IndicatorAdjusted."""
    if not reason.strip():
        raise InvalidInput("a reason is required", errors=[fault("reason", "must not be empty")])
    if delta == 0:
        raise InvalidInput("the change must not be zero", errors=[fault("amount", "must not be 0")])
    if delta > 0 and withdrawal:
        raise InvalidInput("a withdrawal takes money away", errors=[fault("amount", "must be > 0")])
    if delta > 0 and indicator.parent_id:
        raise InvalidInput(
            "a child indicator grows only through a new allocation from its parent",
            errors=[fault("amount", f"allocate from {indicator.parent_id} instead")])
    if -delta > standing.available:
        raise IndicatorOverAllocated(
            f"indicator {indicator.indicator_id} has {standing.available} available, {-delta} cannot be taken",
            indicator_id=indicator.indicator_id, available=format(standing.available, "f"),
            requested=format(-delta, "f"),
            errors=[fault("amount", f"at most {standing.available}")])
    kind = "withdrawal" if withdrawal else ("increase" if delta > 0 else "decrease")
    return IndicatorAdjusted(indicator_id=indicator.indicator_id, kind=kind, delta=delta,
                             amount_after=standing.amount + delta, reason=reason.strip(), adjusted_on=today)


def recoverable(ordered: Decimal, available: Decimal) -> Decimal:
    """What a recovery (收回资金) can withdraw: what was ordered, at most what is available, never below zero."""
    return max(min(ordered, available), Decimal("0.00"))


CORRECTABLE = frozenset({"doc_no", "fund_name", "fund_nature", "function_code", "economic_code", "budget_project",
                         "issued_on", "received_on", "owner_division", "poverty_tag"})


def correct(*, indicator: IndicatorRegistered, changes: dict[str, Any], reason: str, today: date
            ) -> IndicatorCorrected:
    """CorrectIndicator (更正) → IndicatorCorrected; the amount, unit and lineage are not corrected here."""
    errors = [fault(f"changes.{k}", "not correctable: use an adjustment, withdrawal or allocation")
              for k in changes if k not in CORRECTABLE]
    if not reason.strip():
        errors.append(fault("reason", "must not be empty"))
    current = indicator.model_dump()
    for k, v in changes.items():
        if k in CORRECTABLE:
            try:
                typed_changes({k: v})
            except ValidationError:
                errors.append(fault(f"changes.{k}", "a value of this element's type is required"))
    changed = {k: v for k, v in changes.items()
               if k in CORRECTABLE and v != current[k] and not any(e["field"] == f"changes.{k}" for e in errors)}
    if not changed and not errors:
        errors.append(fault("changes", "nothing differs from the indicator as it stands"))
    merged = current | changed
    errors += [e | {"field": f"changes.{e['field']}"} for e in _check_scope_codes(merged) if e["field"] in changed]
    issued, received = merged.get("issued_on"), merged.get("received_on")
    if issued and received and received < issued:
        errors.append(fault("changes.received_on", "received before the document was issued"))
    if errors:
        raise InvalidInput("the correction is not valid: " + ", ".join(e["field"] for e in errors), errors=errors)
    return IndicatorCorrected(indicator_id=indicator.indicator_id, changes=changed,
                              previous={k: current[k] for k in changed}, reason=reason.strip(), corrected_on=today)


def typed_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """Corrected elements as their indicator types (events carry them as JSON)."""
    fields = IndicatorRegistered.model_fields
    return {k: TypeAdapter(fields[k].annotation).validate_python(v) for k, v in changes.items()}
