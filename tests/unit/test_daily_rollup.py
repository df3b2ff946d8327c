"""The daily rollup's arithmetic (日报, 第二十六条(二)): what a district's day adds up to."""

from datetime import date
from decimal import Decimal

from contracts.values import CITY_ORG_UNIT
from services.sync.domain import DISTRICTS, FundSums, day_rolled_up, district_figures, payment_progress, same_numbers


def d(text: str) -> Decimal:
    return Decimal(text)


def test_a_fund_keeps_what_it_received_less_what_it_passed_on_and_paid_plus_what_came_back():
    # 南关区 received 1,000.00, passed 300.00 on, paid 450.00 of which 50.00 came back.
    figures = district_figures("220102", 2026, [FundSums("衔接资金", d("1000.00"), d("300.00"), d("450.00"),
                                                         d("50.00"))], [], [])
    fund = figures.funds[0]
    assert fund.available == d("300.00")
    assert fund.payment_progress == d("0.4000")
    assert figures.org_unit_name == "南关区"


def test_the_totals_add_every_fund_and_the_funds_come_by_name():
    figures = district_figures("220103", 2026, [FundSums("乙", d("100.00"), paid=d("25.00")),
                                                FundSums("甲", d("300.00"), paid=d("75.00"))], [], [])
    assert [f.fund_name for f in figures.funds] == sorted(["乙", "甲"])
    assert figures.totals.fund_name == "合计"
    assert (figures.totals.received, figures.totals.paid, figures.totals.available) == (d("400.00"), d("100.00"),
                                                                                          d("300.00"))
    assert figures.totals.payment_progress == d("0.2500")


def test_a_district_that_received_nothing_has_no_payment_progress_and_zero_totals():
    figures = district_figures("220104", 2026, [], [], [])
    assert figures.funds == []
    assert figures.totals.received == d("0.00") and figures.totals.payment_progress is None
    assert payment_progress(d("0.00"), d("10.00"), d("0.00")) is None


def test_progress_is_rounded_half_up_to_four_places():
    assert payment_progress(d("3.00"), d("2.00"), d("0.00")) == d("0.6667")


def test_alerts_and_filings_are_counted_by_level_and_status_leaving_out_empty_counts():
    figures = district_figures("220105", 2026, [], [("red", "open", 2), ("yellow", "green", 1), ("yellow", "open", 0)],
                               [("report", "returned", 1), ("goals", "filed", 3)])
    assert [(a.level, a.status, a.count) for a in figures.alerts] == [("red", "open", 2), ("yellow", "green", 1)]
    assert [(f.filing, f.status, f.count) for f in figures.filings] == [("goals", "filed", 3), ("report", "returned", 1)]


def test_the_rollup_made_after_midnight_covers_yesterday_and_every_district_but_the_city():
    assert day_rolled_up(date(2026, 11, 10)) == date(2026, 11, 9)
    assert day_rolled_up(date(2027, 1, 1)) == date(2026, 12, 31)
    assert CITY_ORG_UNIT not in DISTRICTS and len(DISTRICTS) == 11


def test_a_rerun_with_the_same_numbers_is_the_same_rollup_and_a_correction_is_not():
    before = district_figures("220106", 2026, [FundSums("衔接资金", d("10.00"))], [], [])
    assert same_numbers(before, district_figures("220106", 2026, [FundSums("衔接资金", d("10.00"))], [], []))
    assert not same_numbers(before, district_figures("220106", 2026, [FundSums("衔接资金", d("12.00"))], [], []))
    assert not same_numbers(None, before)
