"""The indicator aggregate: allocation, adjustment and withdrawal keep the ledger's invariants."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backbone.errors import InvalidInput
from contracts.ledger import IndicatorAdjusted, IndicatorAllocated, IndicatorRegistered
from services.ledger.domain import (ChildRequest, IndicatorOverAllocated, Standing, adjust, allocate, correct,
                                    register_indicator)

TODAY = date(2026, 3, 2)
FIELDS = {"doc_no": "财农〔2026〕1号", "fund_name": "衔接推进乡村振兴补助资金", "fund_nature": "general_budget",
          "function_code": "2130504", "economic_code": "50901", "budget_project": "产业发展",
          "amount": Decimal("1000.00"), "fiscal_year": 2026, "level": "central", "issued_on": date(2026, 2, 10),
          "received_on": date(2026, 2, 12), "owner_division": "agriculture", "org_unit": "220100",
          "poverty_tag": True, "parent_id": None}


def root(amount: str = "1000.00") -> IndicatorRegistered:
    return register_indicator(indicator_id="root", fields=FIELDS | {"amount": Decimal(amount)}, today=TODAY)


def child(cid: str, amount: str, org_unit: str = "220102") -> ChildRequest:
    return ChildRequest(child_id=cid, amount=Decimal(amount), org_unit=org_unit, owner_division="agriculture",
                        overrides={})


def test_allocation_creates_children_that_inherit_the_parents_elements():
    allocated, children = allocate(parent=root(), standing=Standing(Decimal("1000.00")),
                                   children=[child("a", "600.00"), child("b", "400.00", org_unit="220100")],
                                   today=TODAY)
    assert [(e.child_id, e.amount) for e in allocated] == [("a", Decimal("600.00")), ("b", Decimal("400.00"))]
    a, b = children
    assert (a.parent_id, a.level.value, a.org_unit, a.doc_no, a.function_code) == (
        "root", "district", "220102", "财农〔2026〕1号", "2130504")
    assert b.level.value == "city" and a.received_on == a.registered_on == TODAY


def test_over_allocation_names_the_parent_its_available_and_the_request():
    # Fail to allocate 1000.01 from an indicator that has 1000.00 minus 100.00 paid.
    with pytest.raises(IndicatorOverAllocated) as err:
        allocate(parent=root(), standing=Standing(Decimal("1000.00"), paid=Decimal("100.00")),
                 children=[child("a", "500.00"), child("b", "400.01")], today=TODAY)
    assert err.value.extra["indicator_id"] == "root"
    assert (err.value.extra["available"], err.value.extra["requested"]) == ("900.00", "900.01")


@pytest.mark.parametrize("request_,field", [
    pytest.param(child("a", "0.00"), "allocations[0].amount", id="zero-amount"),
    pytest.param(child("a", "1.00", org_unit="999999"), "allocations[0].org_unit", id="unknown-org-unit"),
])
def test_a_bad_allocation_line_names_its_field(request_, field):
    with pytest.raises(InvalidInput) as err:
        allocate(parent=root(), standing=Standing(Decimal("1000.00")), children=[request_], today=TODAY)
    assert [e["field"] for e in err.value.extra["errors"]] == [field]


@pytest.mark.parametrize("delta,withdrawal,parent,error", [
    pytest.param("-700.01", False, None, IndicatorOverAllocated, id="decrease-below-what-children-hold"),
    pytest.param("-300.01", True, None, IndicatorOverAllocated, id="withdraw-more-than-available"),
    pytest.param("10.00", False, "p", InvalidInput, id="child-grows-only-by-allocation"),
    pytest.param("0.00", False, None, InvalidInput, id="zero-change"),
])
def test_adjustments_that_would_break_the_ledger_are_refused(delta, withdrawal, parent, error):
    indicator = root().model_copy(update={"parent_id": parent})
    with pytest.raises(error):
        adjust(indicator=indicator, standing=Standing(Decimal("1000.00"), allocated=Decimal("700.00")),
               delta=Decimal(delta), withdrawal=withdrawal, reason="预算调整", today=TODAY)


@pytest.mark.parametrize("field,code", [
    pytest.param("function_code", "2130598", id="unknown-function-code"),
    pytest.param("economic_code", "50998", id="unknown-economic-code"),
])
def test_an_unknown_classification_code_is_refused_naming_the_field_and_the_code(field, code):
    with pytest.raises(InvalidInput) as err:
        register_indicator(indicator_id="x", fields=FIELDS | {field: code}, today=TODAY)
    [error] = err.value.extra["errors"]
    assert error["field"] == field and code in error["message"]


def test_an_adjustment_records_kind_delta_and_the_new_amount():
    event = adjust(indicator=root(), standing=Standing(Decimal("1000.00")), delta=Decimal("-250.00"),
                   withdrawal=True, reason="项目取消，收回资金", today=TODAY)
    assert (event.kind, event.delta, event.amount_after) == ("withdrawal", Decimal("-250.00"), Decimal("750.00"))


def test_a_correction_records_what_changed_and_what_it_was():
    event = correct(indicator=root(), changes={"function_code": "2130505", "doc_no": "财农〔2026〕1号"},
                    reason="科目录入错误", today=TODAY)
    assert (event.changes, event.previous) == ({"function_code": "2130505"}, {"function_code": "2130504"})


@pytest.mark.parametrize("changes,field", [
    pytest.param({"amount": Decimal("1.00")}, "changes.amount", id="amount-only-by-adjustment"),
    pytest.param({"function_code": "2130598"}, "changes.function_code", id="unknown-code"),
    pytest.param({"doc_no": "财农〔2026〕1号"}, "changes", id="nothing-changes"),
    pytest.param({"received_on": date(2026, 1, 1)}, "changes.received_on", id="received-before-issued"),
])
def test_a_bad_correction_names_its_field(changes, field):
    with pytest.raises(InvalidInput) as err:
        correct(indicator=root(), changes=changes, reason="更正", today=TODAY)
    assert field in [e["field"] for e in err.value.extra["errors"]]


# A ledger of random allocation trees, adjustments, payments and refunds (hypothesis).
cents = st.integers(min_value=1, max_value=200_000).map(lambda c: Decimal(c) / 100)
commands = st.lists(st.tuples(st.sampled_from(["allocate", "adjust", "withdraw", "pay", "refund"]),
                              st.integers(min_value=0, max_value=50), cents, st.booleans()),
                    min_size=1, max_size=60)


class Ledger:
    """Indicators folded from the events the domain returns, plus payments."""

    def __init__(self) -> None:
        self.registered: dict[str, IndicatorRegistered] = {}
        self.amount: dict[str, Decimal] = {}
        self.paid: dict[str, Decimal] = {}
        self.refunded: dict[str, Decimal] = {}

    def apply(self, event) -> None:
        if isinstance(event, IndicatorRegistered):
            self.registered[event.indicator_id] = event
            self.amount[event.indicator_id] = event.amount
            self.paid[event.indicator_id] = self.refunded[event.indicator_id] = Decimal("0.00")
        elif isinstance(event, IndicatorAdjusted):
            self.amount[event.indicator_id] += event.delta
        else:
            assert isinstance(event, IndicatorAllocated)

    def standing(self, iid: str) -> Standing:
        allocated = sum((self.amount[c] for c, r in self.registered.items() if r.parent_id == iid), Decimal("0.00"))
        return Standing(self.amount[iid], allocated, self.paid[iid], self.refunded[iid])


@settings(max_examples=150, deadline=None)
@given(commands)
def test_no_sequence_of_commands_breaks_children_within_parent_or_the_balance_identity(script):
    ledger = Ledger()
    ledger.apply(root("5000.00"))
    for n, (op, pick, amount, flag) in enumerate(script):
        ids = list(ledger.registered)
        iid = ids[pick % len(ids)]
        standing = ledger.standing(iid)
        current = ledger.registered[iid].model_copy(update={"amount": ledger.amount[iid]})
        try:
            if op == "allocate":
                shares = [(amount / (k + 1)).quantize(Decimal("0.01")) for k in range(1 + flag)]
                lines = [child(f"c{n}-{k}", str(share)) for k, share in enumerate(shares)]
                allocated, children = allocate(parent=current, standing=standing, children=lines, today=TODAY)
                for event in [*allocated, *children]:
                    ledger.apply(event)
            elif op in ("adjust", "withdraw"):
                delta = amount if (op == "adjust" and flag) else -amount
                ledger.apply(adjust(indicator=current, standing=standing, delta=delta, withdrawal=op == "withdraw",
                                    reason="调整", today=TODAY))
            elif op == "pay" and amount <= standing.available:
                ledger.paid[iid] += amount
            elif op == "refund":
                ledger.refunded[iid] += min(amount, ledger.paid[iid] - ledger.refunded[iid])
        except (IndicatorOverAllocated, InvalidInput):
            pass
        for each in ledger.registered:
            s = ledger.standing(each)
            # Children never exceed the parent, and nothing is spent that was not available.
            assert s.allocated + s.paid - s.refunded <= s.amount, each
            assert s.available == s.amount - s.allocated - s.paid + s.refunded >= 0
