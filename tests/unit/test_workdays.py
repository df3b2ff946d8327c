"""The working-day calendar agrees with the State Council's arrangements and never crashes."""

import json
import warnings
from datetime import date, datetime, time, timedelta, timezone

import holidays
import pytest

from backbone.workdays import (
    BUNDLED_OVERRIDES,
    OVERRIDES_ENV,
    SHANGHAI,
    UnpublishedHolidayArrangement,
    WorkdayCalendar,
    default_calendar,
)

# Hard-coded from the State Council's yearly notices (国务院办公厅关于部分节假日安排的通知),
# independent of both libraries the calendar reads.
PUBLISHED_FACTS = [
    pytest.param("2019-04-28", True, id="2019-labour-day-tiaoxiu-sunday"),
    *[pytest.param(f"2019-05-0{d}", False, id=f"2019-05-0{d}-labour-day") for d in range(1, 5)],
    pytest.param("2019-05-05", True, id="2019-labour-day-tiaoxiu-sunday-after"),
    pytest.param("2020-01-19", True, id="2020-spring-festival-tiaoxiu-sunday"),
    pytest.param("2020-01-31", False, id="2020-spring-festival-covid-extension"),
    pytest.param("2024-02-04", True, id="2024-spring-festival-tiaoxiu-feb-04"),
    pytest.param("2024-02-18", True, id="2024-spring-festival-tiaoxiu-feb-18"),
    pytest.param("2024-02-15", False, id="2024-spring-festival-thursday"),
    pytest.param("2024-09-29", True, id="2024-national-day-tiaoxiu-sunday"),
    *[pytest.param(f"2024-10-0{d}", False, id=f"2024-10-0{d}-national-day") for d in range(1, 8)],
    pytest.param("2024-10-12", True, id="2024-national-day-tiaoxiu-saturday"),
    pytest.param("2025-01-26", True, id="2025-spring-festival-tiaoxiu-sunday"),
    pytest.param("2025-02-04", False, id="2025-spring-festival-tuesday"),
    *[pytest.param(f"2025-10-0{d}", False, id=f"2025-10-0{d}-national-day") for d in range(1, 9)],
    pytest.param("2025-10-11", True, id="2025-national-day-tiaoxiu-saturday"),
    pytest.param("2026-01-04", True, id="2026-new-year-tiaoxiu-sunday"),
    pytest.param("2026-02-14", True, id="2026-spring-festival-tiaoxiu-feb-14"),
    *[pytest.param(f"2026-02-{d}", False, id=f"2026-02-{d}-spring-festival") for d in range(15, 24)],
    pytest.param("2026-02-28", True, id="2026-spring-festival-tiaoxiu-feb-28"),
    pytest.param("2026-10-07", False, id="2026-national-day-wednesday"),
]


@pytest.fixture
def calendar():
    return WorkdayCalendar()


@pytest.mark.parametrize("day,is_workday", PUBLISHED_FACTS)
def test_matches_published_arrangements(calendar, day, is_workday):
    assert calendar.is_workday(date.fromisoformat(day)) is is_workday


@pytest.mark.parametrize("year", [pytest.param(y, id=str(y)) for y in range(2019, 2027)])
def test_statutory_holidays_of_holidays_china_are_days_off(calendar, year):
    assert calendar.is_published(year)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        working = [d for d in holidays.China(years=year) if calendar.is_workday(d)]
    assert working == []


def test_bundled_overrides_fix_2005_12_31():
    # chinesecalendar has it off; the 2006 notice made that Saturday a working day.
    assert WorkdayCalendar(BUNDLED_OVERRIDES).is_workday(date(2005, 12, 31))
    assert not WorkdayCalendar().is_workday(date(2005, 12, 31))


@pytest.mark.parametrize("start,n,expected", [
    pytest.param("2024-02-08", 1, "2024-02-09", id="thursday-before-spring-festival"),
    pytest.param("2024-02-09", 1, "2024-02-18", id="over-spring-festival-to-tiaoxiu-sunday"),
    pytest.param("2024-02-09", 2, "2024-02-19", id="spring-festival-two-days"),
    pytest.param("2024-09-27", 5, "2024-10-10", id="over-national-day-via-tiaoxiu"),
    pytest.param("2025-09-30", 1, "2025-10-09", id="over-eight-day-national-day"),
    pytest.param("2026-02-13", 1, "2026-02-14", id="friday-to-tiaoxiu-saturday"),
    pytest.param("2026-02-14", 1, "2026-02-24", id="over-2026-spring-festival"),
    pytest.param("2024-10-08", 0, "2024-10-08", id="zero-on-workday"),
    pytest.param("2024-10-01", 0, "2024-10-08", id="zero-on-holiday-rolls-forward"),
    pytest.param("2024-10-01", 1, "2024-10-08", id="one-from-holiday"),
])
def test_add_workdays(calendar, start, n, expected):
    assert calendar.add_workdays(date.fromisoformat(start), n) == date.fromisoformat(expected)


def test_add_workdays_refuses_negative(calendar):
    with pytest.raises(ValueError):
        calendar.add_workdays(date(2024, 1, 2), -1)


@pytest.mark.parametrize("start,end,expected", [
    pytest.param("2024-09-27", "2024-10-10", 5, id="over-national-day"),
    pytest.param("2024-02-09", "2024-02-18", 1, id="spring-festival-to-tiaoxiu"),
    pytest.param("2024-01-01", "2024-12-31", 251, id="whole-2024"),
    pytest.param("2024-10-10", "2024-10-10", 0, id="same-day"),
    pytest.param("2024-10-10", "2024-09-27", 0, id="end-before-start"),
])
def test_workdays_between(calendar, start, end, expected):
    assert calendar.workdays_between(date.fromisoformat(start), date.fromisoformat(end)) == expected


def test_workdays_between_inverts_add_workdays(calendar):
    start = date(2025, 1, 20)
    for n in range(1, 60):
        assert calendar.workdays_between(start, calendar.add_workdays(start, n)) == n


@pytest.mark.parametrize("start,expected", [
    pytest.param(date(2024, 9, 27), date(2024, 10, 10), id="date"),
    pytest.param(datetime(2024, 9, 27, 9, 30), date(2024, 10, 10), id="naive-is-shanghai"),
    pytest.param(datetime(2024, 9, 27, 9, 30, tzinfo=SHANGHAI), date(2024, 10, 10), id="shanghai"),
    # 17:00 UTC on the 26th is already 01:00 on the 27th in Beijing.
    pytest.param(datetime(2024, 9, 26, 17, tzinfo=timezone.utc), date(2024, 10, 10), id="utc-next-day"),
    pytest.param(datetime(2024, 9, 26, 15, tzinfo=timezone.utc), date(2024, 10, 9), id="utc-same-day"),
])
def test_deadline_is_end_of_day_in_shanghai(calendar, start, expected):
    due = calendar.deadline(start, 5)
    assert due == datetime.combine(expected, time(23, 59, 59, 999999), tzinfo=SHANGHAI)
    assert due.utcoffset() == timedelta(hours=8)


def test_fallback_year_warns_once_and_uses_weekends_and_statutory_days(calendar):
    assert not calendar.is_published(2027)
    with pytest.warns(UnpublishedHolidayArrangement, match="2027") as caught:
        assert calendar.is_workday(date(2027, 1, 4))  # Monday
        assert not calendar.is_workday(date(2027, 1, 1))  # 元旦, a Friday
        assert not calendar.is_workday(date(2027, 10, 1))  # 国庆, a Friday
        assert not calendar.is_workday(date(2027, 1, 9))  # Saturday
        calendar.add_workdays(date(2027, 9, 30), 3)
    assert len(caught) == 1


def test_never_crashes_from_2000_to_2100(calendar):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnpublishedHolidayArrangement)
        day = date(2000, 1, 1)
        while day.year <= 2100:
            calendar.is_workday(day)
            day += timedelta(days=1)
        assert calendar.deadline(date(2100, 12, 31), 10).year == 2101


def test_override_makes_a_fallback_year_official(tmp_path):
    path = tmp_path / "overrides.json"
    path.write_text(json.dumps({"2027": {
        "holidays": ["2027-02-11"], "workdays": ["2027-02-13", "2026-12-26"], "source": "test",
    }}))
    calendar = WorkdayCalendar(path)
    assert calendar.is_published(2027)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not calendar.is_workday(date(2027, 2, 11))  # a Thursday
        assert calendar.is_workday(date(2027, 2, 13))  # a Saturday
        assert not calendar.is_workday(date(2027, 2, 6))  # 春节 from holidays.China still applies
        assert calendar.is_workday(date(2026, 12, 26))  # overrides win over chinesecalendar too


def test_override_refuses_a_date_both_off_and_working(tmp_path):
    path = tmp_path / "overrides.json"
    path.write_text(json.dumps({"2027": {"holidays": ["2027-02-11"], "workdays": ["2027-02-11"]}}))
    with pytest.raises(ValueError, match="2027-02-11"):
        WorkdayCalendar(path)


def test_default_calendar_reads_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "overrides.json"
    path.write_text(json.dumps({"2030": {"holidays": ["2030-03-05"]}}))
    monkeypatch.setenv(OVERRIDES_ENV, str(path))
    default_calendar.cache_clear()
    try:
        assert default_calendar().is_published(2030)
        assert default_calendar() is default_calendar()
    finally:
        default_calendar.cache_clear()
