"""Money is an exact decimal to the fen, and travels as a string."""

from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

from contracts.values import Money, money


class Holder(BaseModel):
    amount: Money


@pytest.mark.parametrize("raw,expected", [
    pytest.param("1000", Decimal("1000.00"), id="whole-yuan"),
    pytest.param("0.10", Decimal("0.10"), id="ten-fen"),
    pytest.param("-100.5", Decimal("-100.50"), id="negative"),
])
def test_accepts_exact_amounts(raw, expected):
    assert Holder(amount=raw).amount == expected


@pytest.mark.parametrize("raw", [
    pytest.param("1.005", id="three-decimals"),
    pytest.param("abc", id="not-a-number"),
    pytest.param("NaN", id="nan"),
    pytest.param("Infinity", id="infinity"),
    pytest.param("1e13", id="out-of-range"),
    pytest.param("6902095515004007874271965884", id="beyond-decimal-precision"),
    pytest.param("-6902095515004007874271965884.5", id="beyond-decimal-precision-negative"),
])
def test_refuses_inexact_amounts(raw):
    with pytest.raises(ValidationError) as err:
        Holder(amount=raw)
    assert err.value.errors()[0]["loc"] == ("amount",)


def test_serialises_as_a_decimal_string():
    assert Holder(amount="600").model_dump(mode="json") == {"amount": "600.00"}
    assert money("0.1") + money("0.2") == Decimal("0.30")
