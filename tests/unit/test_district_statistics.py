"""The district statistics' arithmetic (第七条(二), 第二十三条): allocation and payment progress, filings in time,
how long alerts waited at each step, and what was overdue."""

from datetime import date, datetime
from decimal import Decimal

from backbone.months import Month
from backbone.workdays import SHANGHAI, WorkdayCalendar
from services.sync.statistics.domain import (Allocation, Filing, MoneySums, MonthFacts, allocation_progress, cut_off,
                                             district_statistics, division_overdue, filing_timeliness,
                                             payment_against_time)
from services.sync.statistics.steps import Step, standing, step_times, waits

NOVEMBER = Month(2026, 11)
CALENDAR = WorkdayCalendar()


def at(day: int, month: int = 11, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=SHANGHAI)


def test_an_allocation_counts_the_working_days_from_receipt_and_the_share_passed_on():
    # 南关区 received on Monday 2 November and allocated on the Thursday (3 working days) and the next Monday (5).
    progress = allocation_progress(Decimal("1000.00"), Decimal("400.00"), [
        Allocation("220102", date(2026, 11, 2), date(2026, 11, 5)),
        Allocation("220102", date(2026, 11, 2), date(2026, 11, 9))], CALENDAR)
    assert (progress.allocations, progress.average_working_days, progress.max_working_days) == (2, Decimal("4.00"), 5)
    assert progress.allocated_share == Decimal("0.4000")


def test_nothing_received_or_allocated_leaves_the_averages_and_the_share_empty():
    progress = allocation_progress(Decimal("0.00"), Decimal("0.00"), [], CALENDAR)
    assert (progress.allocated_share, progress.average_working_days, progress.max_working_days) == (None, None, None)


def test_payment_progress_lagging_the_time_progress_is_behind():
    behind = payment_against_time(Decimal("1000.00"), Decimal("300.00"), Decimal("0.00"), Decimal("0.8630"))
    assert (behind.payment_progress, behind.behind) == (Decimal("0.3000"), True)
    ahead = payment_against_time(Decimal("1000.00"), Decimal("950.00"), Decimal("50.00"), Decimal("0.8630"))
    assert (ahead.payment_progress, ahead.behind) == (Decimal("0.9000"), False)
    assert payment_against_time(Decimal("0.00"), Decimal("0.00"), Decimal("0.00"), Decimal("0.5")).behind is False


def test_goals_are_late_after_five_working_days_and_reports_after_ten():
    filings = [
        Filing("220102", "goals", date(2026, 11, 2), date(2026, 11, 9)),  # the 5th working day: in time
        Filing("220102", "goals", date(2026, 11, 2), date(2026, 11, 10)),  # the 6th: late
        Filing("220102", "report", date(2026, 10, 30), date(2026, 11, 13)),  # the 10th working day: in time
        Filing("220102", "report", date(2026, 10, 30), date(2026, 11, 16)),  # the 11th: late
        Filing("220102", "goals", None, date(2026, 11, 16)),  # nothing tells when its time began: not judged
    ]
    assert filing_timeliness(filings, CALENDAR) == type(filing_timeliness([], CALENDAR))(on_time=2, late=2)


def steps_of_a_red_light() -> list[Step]:
    # A yellow light raised on Monday 2 November, confirmed a violation on Friday 6th (4 working days: overdue),
    # corrected on Tuesday 10th (2 working days at red).
    return [Step("a1", "220102", "agriculture", "yellow", "open", at(2)),
            Step("a1", "220102", "agriculture", "red", "open", at(6)),
            Step("a1", "220102", "agriculture", "red", "green", at(10), ("约谈",))]


def test_each_wait_is_measured_until_the_next_step_and_a_person_left_over_three_working_days_is_overdue():
    found = waits(steps_of_a_red_light(), NOVEMBER.start, NOVEMBER.end, CALENDAR)
    assert [(w.level, w.working_days, w.overdue) for w in found] == [("yellow", 4, True), ("red", 2, False)]
    times = {t.level: t for t in step_times(found)}
    assert (times["yellow"].waits, times["yellow"].average_working_days, times["yellow"].overdue) == (1, 4, 1)
    assert times["yellow_bell"].waits == 0 and times["yellow_bell"].average_working_days is None


def test_a_wait_still_running_is_measured_until_the_cut_off_and_a_bell_is_never_overdue():
    steps = [Step("b1", "220102", None, "yellow_bell", "open", at(2)),
             Step("y1", "220102", None, "yellow", "open", at(2))]
    found = waits(steps, NOVEMBER.start, cut_off(NOVEMBER.end, at(5)), CALENDAR)
    assert sorted((w.level, w.working_days, w.overdue) for w in found) == [("yellow", 3, False),
                                                                         ("yellow_bell", 3, False)]
    later = waits(steps, NOVEMBER.start, NOVEMBER.end, CALENDAR)
    assert sorted((w.level, w.overdue) for w in later) == [("yellow", True), ("yellow_bell", False)]


def test_a_wait_over_before_the_month_is_not_the_months():
    steps = [Step("a0", "220102", None, "yellow", "open", at(5, 10)),
             Step("a0", "220102", None, "yellow", "green", at(8, 10))]
    assert waits(steps, NOVEMBER.start, NOVEMBER.end, CALENDAR) == []
    assert [(t.level, t.status, t.count) for t in standing(steps, NOVEMBER.end)] == [("yellow", "green", 1)]


def test_a_districts_month_gathers_its_own_facts_only():
    facts = MonthFacts(
        money={"220102": MoneySums(received=Decimal("1000.00"), allocated=Decimal("200.00"), paid=Decimal("100.00"))},
        allocations=[Allocation("220102", date(2026, 11, 2), date(2026, 11, 3)),
                     Allocation("220103", date(2026, 11, 2), date(2026, 11, 20))],
        filings=[Filing("220102", "goals", date(2026, 11, 2), date(2026, 11, 20))],
        steps=[*steps_of_a_red_light(), Step("z", "220103", None, "red", "open", at(3))],
        circulars={"220102": 1})
    row = district_statistics("220102", facts, NOVEMBER.start, NOVEMBER.end, Decimal("0.9151"), CALENDAR)
    assert (row.org_unit_name, row.allocation.max_working_days, row.payment.payment_progress) == (
        "南关区", 1, Decimal("0.1000"))
    assert (row.filings.on_time, row.filings.late) == (0, 1)
    assert (row.alerts_raised, row.overdue_steps, row.circulars, row.talks) == (1, 1, 1, 1)
    assert [(t.level, t.status, t.count) for t in row.alerts] == [("red", "green", 1)]
    empty = district_statistics("220171", facts, NOVEMBER.start, NOVEMBER.end, Decimal("0.9151"), CALENDAR)
    assert (empty.alerts_raised, empty.payment.payment_progress, empty.alerts) == (0, None, [])


def test_the_divisions_own_alerts_are_those_of_no_district():
    facts = MonthFacts(steps=[Step("c1", "220100", "education", "yellow", "open", at(2)),
                              Step("c2", None, "education", "red", "open", at(27)),
                              *steps_of_a_red_light()])
    [education] = division_overdue(facts, NOVEMBER.start, NOVEMBER.end, CALENDAR)
    assert (education.division, education.division_name, education.open_alerts, education.overdue_steps) == (
        "education", "教科文处", 2, 1)
