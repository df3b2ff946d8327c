"""Districts in the yearly cycle (第十五条): their proposals and comments on a fiscal year are taken until 10-15 of
the year before, that day included."""

from datetime import date

import pytest

from services.alerting.rules.opinions import CycleClosed, check_open, next_open_year, proposals_due


def test_a_years_requirements_are_due_on_10_15_of_the_year_before():
    assert proposals_due(2028) == date(2027, 10, 15)


@pytest.mark.parametrize("today,year,open_", [
    pytest.param(date(2027, 10, 14), 2028, True, id="the-day-before"),
    pytest.param(date(2027, 10, 15), 2028, True, id="the-due-day-itself"),
    pytest.param(date(2027, 10, 16), 2028, False, id="the-day-after"),
    pytest.param(date(2026, 11, 10), 2027, False, id="the-coming-year-after-its-date"),
    pytest.param(date(2026, 11, 10), 2028, True, id="the-year-after-next"),
    pytest.param(date(2026, 11, 10), 2026, False, id="the-year-under-way"),
])
def test_a_district_is_heard_until_the_due_day(today, year, open_):
    if open_:
        check_open(year, today)
    else:
        with pytest.raises(CycleClosed) as refused:
            check_open(year, today)
        assert refused.value.status == 409 and refused.value.extra["next_open_year"] == next_open_year(today)


def test_after_10_15_the_districts_speak_to_the_year_after_next():
    assert next_open_year(date(2026, 10, 15)) == 2027
    assert next_open_year(date(2026, 10, 16)) == 2028
