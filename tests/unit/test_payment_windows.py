"""Where a window rule's window lies around a payment, and what it groups by: the one-by-one path and a run's
one statement compute them alike."""

from datetime import UTC, datetime
from decimal import Decimal

from services.alerting.projections import window_bounds, window_key
from services.alerting.rules import WindowSpec

PAID = {"paid_at": datetime(2026, 2, 28, 17, tzinfo=UTC), "payee_id_index": None, "payee_account": "6222",
        "indicator_id": "ind-1", "amount": Decimal("10.00")}


def test_a_month_window_is_the_beijing_month_of_the_payment():
    start, end, period = window_bounds(WindowSpec(group_by="payee", period="month"), {}, PAID)
    # 17:00 UTC on 28 February is 1 March in Beijing.
    assert (start.isoformat(), end.isoformat(), period) == ("2026-03-01T00:00:00+08:00", "2026-04-01T00:00:00+08:00",
                                                            "2026-03")


def test_a_days_window_lies_on_both_sides_and_names_no_period():
    spec = WindowSpec(group_by="indicator", period="days", days_parameter="days")
    start, end, period = window_bounds(spec, {"days": 30}, PAID)
    assert (end - start).days == 60 and period is None
    assert window_key(spec, PAID) == "ind-1"


def test_a_payee_is_grouped_by_its_blind_index_or_else_its_account():
    spec = WindowSpec(group_by="payee", period="month")
    assert window_key(spec, PAID) == "6222"
    assert window_key(spec, {**PAID, "payee_id_index": "abc"}) == "abc"
