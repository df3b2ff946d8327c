"""The platform's use (第十条(四)) as arithmetic: who signed in and worked, per org unit and division, the items
overdue there, and the treasury's circular; and the month a query asks for."""

from datetime import datetime

import pytest

from backbone.errors import InvalidInput
from backbone.months import Month, month_asked
from backbone.workdays import SHANGHAI
from gateway.usage.domain import Entries, Overdue, Person, circular, usage_rows

PEOPLE = [Person("农业处-王", "220100", "agriculture"), Person("农业处-李", "220100", "agriculture"),
          Person("南关区-赵", "220102", None), Person("宽城区-钱", "220103", None)]
OVERDUE = Overdue(by_org_unit={"220102": 2, "220103": 0}, by_division={"agriculture": 1})


def test_sign_ins_and_writes_are_counted_per_unit_and_a_person_who_did_either_is_active():
    entries = [
        Entries("农业处-王", "auth.login", "200", 3),
        Entries("农业处-王", "POST /api/v1/alerts/{alert_id}/dispositions", "201", 4),
        # A refused write, a sign-in that failed and a change of one's own password are no work on the platform.
        Entries("农业处-李", "POST /api/v1/indicators", "422", 2),
        Entries("农业处-李", "auth.login_failed", "401", 5),
        Entries("农业处-李", "POST /api/v1/auth/password", "204", 1),
        Entries("南关区-赵", "POST /api/v1/auth/session", "200", 1),
        # Someone without an account in the month (a machine key) counts nowhere.
        Entries("treasury-system", "POST /api/v1/payments/batch", "200", 9),
    ]
    rows = {(r.org_unit, r.division): r for r in usage_rows(PEOPLE, entries, OVERDUE)}
    agriculture = rows[("220100", "agriculture")]
    assert (agriculture.division_name, agriculture.people, agriculture.active_people, agriculture.sign_ins,
            agriculture.actions, agriculture.overdue_items) == ("农业处", 2, 1, 3, 4, 1)
    nanguan = rows[("220102", None)]
    assert (nanguan.org_unit_name, nanguan.active_people, nanguan.sign_ins, nanguan.overdue_items) == (
        "南关区", 1, 1, 2)
    assert rows[("220103", None)].active_people == 0
    assert [r.org_unit for r in usage_rows(PEOPLE, entries, OVERDUE)] == ["220100", "220102", "220103"]


def test_the_circular_names_the_units_that_did_not_use_the_platform_and_those_with_overdue_items():
    rows = usage_rows(PEOPLE, [Entries("南关区-赵", "auth.login", "200", 2)], OVERDUE)
    c = circular("2026-11", rows)
    assert c.title == "关于2026年11月财政扶贫资金动态监控平台使用情况的通报"
    assert "局脱贫办" in c.recipients
    assert c.not_used == ["长春市本级农业处", "宽城区"]
    assert c.with_overdue == ["长春市本级农业处（1项）", "南关区（2项）"]
    assert c.summary.startswith("2026年11月，3个单位4名用户中有1名使用监控平台，登录2次，办理业务0项；2个单位本月无人使用")


NOW = datetime(2026, 11, 10, 9, 30, tzinfo=SHANGHAI)


def test_a_month_asked_for_is_one_begun_in_the_platforms_years():
    assert month_asked("2026-11", NOW) == Month(2026, 11)
    assert month_asked("2025-01", NOW).end == datetime(2025, 2, 1, tzinfo=SHANGHAI)


@pytest.mark.parametrize("text", ["2026-12", "1999-12", "2026-13", "11-2026", ""])
def test_any_other_month_is_a_422_naming_the_field(text):
    with pytest.raises(InvalidInput) as refused:
        month_asked(text, NOW)
    assert [e["field"] for e in refused.value.extra["errors"]] == ["query.month"]
