"""Who is told what, and when: the notifications' decisions and the register's rules, without I/O."""

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from backbone.identity import Principal
from backbone.workdays import SHANGHAI
from contracts.notifications import Person
from services.alerting.notifications.domain import (Bell, Channel, Kind, Liaisons, Role, backoff, digest_due,
                                                    is_mobile, may_set, plan_alert_event, plan_digest, settle,
                                                    too_old, unit_kind)

BOTH = [Channel.EMAIL, Channel.SMS]
AGRICULTURE = Liaisons("agriculture", Person(name="刘处长", post="处长", phone="0431-88881234", email="liu@agri.gov"),
                       Person(name="王科长", post="科长", phone="13800000001", email="wang@agri.gov"))
NANGUAN = Liaisons("220102", Person(name="赵局长", post="副局长", phone="13800000002", email="zhao@ng.gov"),
                   Person(name="钱会计", post="科员", phone="13800000003", email=None))
REGISTER = {"agriculture": AGRICULTURE, "220102": NANGUAN}


def raised(**overrides) -> dict:
    return {"alert_id": "a1", "rule_id": "spending.cash_above_limit", "rule_number": "ZC-003", "rule_name": "大额现金",
            "level": "red", "org_unit": "220100", "owner_division": "agriculture",
            "explanation": {"summary": "现金支付 2000.00 元"}} | overrides


def moved(**overrides) -> dict:
    return {"alert_id": "a1", "rule_id": "spending.cash_above_limit", "org_unit": "220100",
            "owner_division": "agriculture", "from_level": "yellow", "to_level": "red"} | overrides


def addressed(planned) -> set[tuple[str, str, str]]:
    return {(p.channel.value, p.address, p.role.value) for p in planned}


# A red light reaches the owning division's contact person at once, by mail and SMS.
def test_a_red_light_goes_to_the_owning_division_s_contact_by_mail_and_sms():
    planned = plan_alert_event("alerting.AlertRaised", raised(), REGISTER, BOTH)
    assert addressed(planned) == {("email", "wang@agri.gov", "contact"), ("sms", "13800000001", "contact")}
    assert {p.kind for p in planned} == {Kind.RED_LIGHT} and all("a1" in p.title for p in planned)


# A district's fund: its district hears of it too (SMS only where no e-mail was given).
def test_a_red_light_on_a_district_s_fund_reaches_the_district_too():
    planned = plan_alert_event("alerting.AlertTransitioned", moved(org_unit="220102"), REGISTER, BOTH)
    assert ("sms", "13800000003", "contact") in addressed(planned)
    assert len(planned) == 3


@pytest.mark.parametrize("event_type, payload", [
    pytest.param("alerting.AlertRaised", raised(level="yellow"), id="raised-yellow"),
    pytest.param("alerting.AlertTransitioned", moved(from_level="red", to_level="red"), id="red-stays-red"),
    pytest.param("alerting.AlertTransitioned", moved(to_level="yellow"), id="not-red"),
])
def test_nothing_but_turning_red_sends_at_once(event_type, payload):
    assert plan_alert_event(event_type, payload, REGISTER, BOTH) == []


def test_nobody_registered_or_no_channel_on_means_nothing_planned():
    assert plan_alert_event("alerting.AlertRaised", raised(owner_division="education"), REGISTER, BOTH) == []
    assert plan_alert_event("alerting.AlertRaised", raised(), REGISTER, []) == []


# An overdue step (LC-001) of a district's alert goes to the district's responsible leader, not its contact.
def test_an_overdue_step_reaches_the_district_s_leader():
    payload = raised(rule_id="workflow.alert_not_handled", rule_number="LC-001", level="yellow_bell",
                     org_unit="220102", owner_division="agriculture")
    planned = plan_alert_event("alerting.AlertRaised", payload, REGISTER, BOTH)
    assert addressed(planned) == {("email", "zhao@ng.gov", "leader"), ("sms", "13800000002", "leader")}
    assert {p.kind for p in planned} == {Kind.OVERDUE}
    # A step of the city's own fund has no district to tell.
    assert plan_alert_event("alerting.AlertRaised", payload | {"org_unit": "220100"}, REGISTER, BOTH) == []


# The same event planned twice gives the same keys: the deliveries table keeps one of each.
def test_planning_again_gives_the_same_keys():
    first = plan_alert_event("alerting.AlertRaised", raised(), REGISTER, BOTH)
    assert [p.key for p in first] == [p.key for p in plan_alert_event("alerting.AlertRaised", raised(), REGISTER,
                                                                      BOTH)]
    assert len({p.key for p in first}) == len(first)


def test_a_digest_lists_the_day_s_bells_once_per_channel_and_a_late_bell_gets_its_own():
    bells = [Bell("b1", "JX-001", "未设定绩效目标", "将于 2026-11-12 到期"), Bell("b2", "LC-005", "月报未报", "…")]
    planned = plan_digest(date(2026, 11, 10), AGRICULTURE, bells, BOTH)
    assert addressed(planned) == {("email", "wang@agri.gov", "contact"), ("sms", "13800000001", "contact")}
    assert all("b1" in p.body and "b2" in p.body and "（2 条）" in p.title for p in planned)
    late = plan_digest(date(2026, 11, 10), AGRICULTURE, bells[:1], BOTH)
    assert not {p.key for p in late} & {p.key for p in planned}
    assert plan_digest(date(2026, 11, 10), AGRICULTURE, [], BOTH) == []
    assert plan_digest(date(2026, 11, 10), None, bells, BOTH) == []


@pytest.mark.parametrize("local, due", [
    pytest.param(datetime(2026, 11, 10, 23, 59), False, id="the-day-itself"),
    pytest.param(datetime(2026, 11, 11, 7, 59), False, id="before-the-hour"),
    pytest.param(datetime(2026, 11, 11, 8, 0), True, id="at-the-hour"),
    pytest.param(datetime(2026, 11, 13, 3, 0), True, id="days-later"),
])
def test_a_day_s_digest_is_due_from_the_hour_of_the_next_day_in_beijing(local, due):
    assert digest_due(local.replace(tzinfo=SHANGHAI).astimezone(UTC), date(2026, 11, 10), 8) is due


def test_history_read_again_is_no_news():
    now = datetime(2026, 11, 10, 9, 30, tzinfo=UTC)
    assert not too_old(now - timedelta(hours=23), now, 24)
    assert too_old(now - timedelta(days=30), now, 24)


def test_failed_attempts_wait_longer_each_time_up_to_a_limit_then_fail_for_good():
    assert [backoff(n, 30, 100) for n in (1, 2, 3, 4)] == [timedelta(seconds=s) for s in (30, 60, 100, 100)]
    assert settle(1, None, 3) == "sent"
    assert settle(2, "451 busy", 3) == "pending"
    assert settle(3, "451 busy", 3) == "failed"


@pytest.mark.parametrize("principal, unit, allowed", [
    pytest.param(Principal(subject="d", roles=["district"], org_unit="220102"), "220102", True, id="own-district"),
    pytest.param(Principal(subject="d", roles=["district"], org_unit="220103"), "220102", False, id="other-district"),
    pytest.param(Principal(subject="v", roles=["division"], division="agriculture"), "agriculture", True,
                 id="own-division"),
    pytest.param(Principal(subject="v", roles=["division"], division="agriculture"), "220102", False,
                 id="division-not-district"),
    pytest.param(Principal(subject="t", roles=["treasury"]), "220174", True, id="treasury-any"),
    pytest.param(Principal(subject="p", roles=["poverty_office"]), "220102", False, id="poverty-office-reads"),
])
def test_who_may_name_a_unit_s_people(principal, unit, allowed):
    assert may_set(principal, unit) is allowed


def test_the_register_s_units_and_people():
    assert (unit_kind("220171"), unit_kind("agriculture"), unit_kind("220100"), unit_kind("x")) == (
        "district", "division", None, None)
    assert is_mobile("13800000001") and is_mobile("+8613800000001") and not is_mobile("0431-88881234")
    with pytest.raises(ValidationError) as bad:
        Person(name="王", post="科长", phone="13800000001", email="not-an-address")
    assert bad.value.errors()[0]["loc"] == ("email",)
    assert Role.LEADER.value == "leader"
