"""Deadline rules: when a clock starts, when its bell rings and when its time runs out, on the real calendar."""

from datetime import date, datetime

import pytest

from backbone.workdays import SHANGHAI, default_calendar
from services.alerting.deadlines import breach, meets, settled_ahead, start as start_all, watch_id_for
from services.alerting.rules import Rule, starter_rules

RULES = starter_rules()
REGISTERED, ALLOCATED, DOCUMENT = "ledger.IndicatorRegistered", "ledger.IndicatorAllocated", "ledger.IndicatorDocumentAttached"
CALENDAR = default_calendar()


def start(*args, **kwargs):
    """The one watch a rule without reporting points starts, or None."""
    watches = start_all(*args, **kwargs)
    assert len(watches) <= 1
    return watches[0] if watches else None


def registered(**overrides) -> dict:
    return {"indicator_id": "ind-1", "doc_no": "吉财农指〔2026〕3号", "fund_name": "衔接资金", "amount": "5000000.00",
            "fiscal_year": 2026, "level": "central", "org_unit": "220100", "owner_division": "agriculture",
            "issued_on": "2026-09-15", "received_on": "2026-09-20", "registered_on": "2026-09-21",
            "parent_id": None} | overrides


@pytest.mark.parametrize("payload,starts", [
    pytest.param(registered(), True, id="ZB-002-central-funds-received-by-the-city"),
    pytest.param(registered(level="city"), False, id="ZB-002-near-miss-city-funds"),
    pytest.param(registered(org_unit="220102"), False, id="ZB-002-near-miss-district-indicator"),
])
def test_zb002_starts_a_clock_for_central_and_provincial_funds_the_city_receives(payload, starts):
    assert (start(RULES["indicator.not_allocated_in_time"], REGISTERED, payload, CALENDAR) is not None) is starts


def test_zb002_counts_thirty_calendar_days_and_rings_three_working_days_before():
    watch = start(RULES["indicator.not_allocated_in_time"], REGISTERED, registered(), CALENDAR)
    # 2026-09-20 + 30 days = 2026-10-20; the National Day holidays before it are calendar days all the same.
    assert watch.due_at == datetime(2026, 10, 20, 23, 59, 59, 999999, tzinfo=SHANGHAI)
    bell_day = watch.bell_at.date()
    assert CALENDAR.add_workdays(bell_day, 3) == date(2026, 10, 20) and CALENDAR.is_workday(bell_day)
    assert watch.watch_id == watch_id_for("indicator.not_allocated_in_time", "ind-1")


def test_zb002_is_met_by_an_allocation_of_the_same_indicator_only():
    rule = RULES["indicator.not_allocated_in_time"]
    assert meets(rule, ALLOCATED, {"indicator_id": "ind-1", "child_id": "c-1"}) == ("ind-1", None)
    assert meets(rule, DOCUMENT, {"indicator_id": "ind-1"}) is None


@pytest.mark.parametrize("payload,starts", [
    pytest.param(registered(), True, id="ZB-003-a-received-indicator"),
    pytest.param(registered(parent_id="ind-0"), False, id="ZB-003-near-miss-child-uses-its-parents-document"),
])
def test_zb003_starts_for_indicators_that_need_their_own_document(payload, starts):
    assert (start(RULES["indicator.document_missing"], REGISTERED, payload, CALENDAR) is not None) is starts


def test_zb003_counts_working_days_and_has_no_bell():
    # Registered Friday 2026-09-25: three working days later, skipping the weekend, is Wednesday 09-30.
    watch = start(RULES["indicator.document_missing"], REGISTERED, registered(registered_on="2026-09-25"), CALENDAR)
    assert watch.bell_at is None and watch.due_at.date() == date(2026, 9, 30)
    assert meets(RULES["indicator.document_missing"], DOCUMENT, {"indicator_id": "ind-1"}) == ("ind-1", None)


def test_a_bell_says_when_its_time_runs_out():
    rule = RULES["indicator.not_allocated_in_time"]
    watch = start(rule, REGISTERED, registered(), CALENDAR)
    ringing = breach(rule, "ind-1", watch.facts, ringing=True)
    assert ringing.summary.startswith("将于 2026-10-20 到期") and "吉财农指〔2026〕3号" in ringing.summary
    assert ringing.values["due_day"] == "2026-10-20"


def test_zc007_funds_idle_ninety_days_unless_paid_or_passed_down():
    rule = RULES["spending.funds_idle"]
    watch = start(rule, REGISTERED, registered(), CALENDAR)
    assert watch.due_at.date() == date(2026, 12, 20) and watch.bell_at is None
    assert meets(rule, "payments.PaymentRecorded", {"payment_id": "p", "indicator_id": "ind-1"}) == ("ind-1", None)
    assert meets(rule, ALLOCATED, {"indicator_id": "ind-1", "child_id": "c"}) == ("ind-1", None)
    assert meets(rule, DOCUMENT, {"indicator_id": "ind-1"}) is None


def raised_alert(level: str) -> dict:
    return {"alert_id": "a-1", "rule_id": "spending.cash_above_limit", "level": level,
            "raised_at": "2026-09-25T10:00:00+08:00", "org_unit": "220102", "owner_division": "agriculture"}


def test_lc001_starts_a_clock_at_each_human_step_and_stops_at_the_next_sheet():
    rule = RULES["workflow.alert_not_handled"]
    first = start(rule, "alerting.AlertRaised", raised_alert("yellow"), CALENDAR, cause="e-1")
    # Friday 2026-09-25 + 3 working days = Wednesday 09-30; the alert itself is what the bell is about.
    assert first.due_at.date() == date(2026, 9, 30) and first.subject_id == "a-1"
    assert start(rule, "alerting.AlertRaised", raised_alert("yellow_bell"), CALENDAR, cause="e-0") is None
    confirmed = {"alert_id": "a-1", "rule_id": "r", "to_level": "red", "to_status": "open",
                 "at": "2026-10-09T09:00:00+08:00", "sheet": {"number": "CLD-2026-000001"}}
    second = start(rule, "alerting.AlertTransitioned", confirmed, CALENDAR, cause="e-2")
    assert second.watch_id != first.watch_id, "each step has its own clock"
    assert meets(rule, "alerting.AlertTransitioned", confirmed) == ("a-1", None)
    closed = confirmed | {"to_status": "green"}
    assert start(rule, "alerting.AlertTransitioned", closed, CALENDAR, cause="e-3") is None
    cleared = {"alert_id": "a-1", "to_level": "yellow_bell", "to_status": "cleared", "sheet": None}
    assert meets(rule, "alerting.AlertTransitioned", cleared) is None, "only a person's sheet handles an alert"
    bell = breach(rule, "a-1", first.facts, ringing=False)
    assert bell.subject.kind == "alert" and bell.subject.indicator_id is None


@pytest.mark.parametrize("today,year", [
    pytest.param(date(2026, 11, 28), 2028, id="after-10-15-the-year-after-next"),
    pytest.param(date(2027, 3, 1), 2028, id="before-10-15-the-coming-year"),
    pytest.param(date(2027, 10, 15), 2029, id="on-10-15-it-is-too-late-for-the-coming-year"),
])
def test_the_yearly_cycle_opened_is_the_one_whose_dates_are_still_ahead(today, year):
    from services.alerting.scheduler import next_cycle_year
    assert next_cycle_year(today) == year


@pytest.mark.filterwarnings("ignore::backbone.workdays.UnpublishedHolidayArrangement")
def test_lc002_and_lc003_ring_five_working_days_before_10_15_and_11_01_and_stop_at_the_divisions_work():
    opened = {"cycle_id": "2028-agriculture", "fiscal_year": 2028, "step": "propose", "owner_division": "agriculture",
              "org_unit": "220100", "due_on": "2027-10-15"}
    proposing = start(RULES["workflow.rules_not_proposed"], "alerting.RuleCycleOpened", opened, CALENDAR, "e")
    assert proposing.due_at.date() == date(2027, 10, 15)
    assert CALENDAR.add_workdays(proposing.bell_at.date(), 5) == date(2027, 10, 15)
    assert start(RULES["workflow.rules_not_reported"], "alerting.RuleCycleOpened", opened, CALENDAR, "e") is None
    assert meets(RULES["workflow.rules_not_proposed"], "alerting.RequirementProposed",
                 {"cycle_id": "2028-agriculture"}) == ("2028-agriculture", None)
    consolidating = opened | {"cycle_id": "2028-treasury", "step": "consolidate", "owner_division": "treasury",
                              "due_on": "2027-11-01"}
    reporting = start(RULES["workflow.rules_not_reported"], "alerting.RuleCycleOpened", consolidating, CALENDAR, "e")
    assert reporting.due_at.date() == date(2027, 11, 1)
    assert meets(RULES["workflow.rules_not_reported"], "alerting.RuleProposalsSubmitted",
                 {"cycle_id": "2028-treasury"}) == ("2028-treasury", None)


def test_jx001_gives_five_working_days_from_the_issue_to_set_goals_or_pass_the_money_down():
    rule = RULES["performance.goals_missing"]
    # 第二十六条(一): within 5 working days of the document's issue, however late it was registered.
    watch = start(rule, REGISTERED, registered(issued_on="2026-09-25", registered_on="2026-09-29", poverty_tag=True),
                  CALENDAR)
    # 09-28, 09-29, 09-30, then the National Day holidays, then 10-08 and 10-09.
    assert watch.due_at.date() == date(2026, 10, 9), "five working days across the National Day holidays"
    assert CALENDAR.add_workdays(watch.bell_at.date(), 2) == date(2026, 10, 9)
    # Without an issue date the registration is what is known: the time counts from it.
    undated = start(rule, REGISTERED, registered(issued_on=None, registered_on="2026-09-25", poverty_tag=True),
                    CALENDAR)
    assert undated.due_at.date() == date(2026, 10, 9)
    assert start(rule, REGISTERED, registered(poverty_tag=False), CALENDAR) is None
    assert meets(rule, "performance.GoalsSet", {"goal_id": "g", "indicator_id": "ind-1"}) == ("ind-1", None)
    assert meets(rule, ALLOCATED, {"indicator_id": "ind-1", "child_id": "c"}) == ("ind-1", None)


def test_work_done_before_its_clock_started_settles_the_clock_the_late_start_would_have_started():
    # Goals set (performance's topic) can arrive before the registration (ledger's topic) that starts JX-001.
    rule = RULES["performance.goals_missing"]
    subject, point = meets(rule, "performance.GoalsSet", {"goal_id": "g", "indicator_id": "ind-1"})
    late = start(rule, REGISTERED, registered(registered_on="2026-09-25", poverty_tag=True), CALENDAR)
    assert settled_ahead(rule, subject, point) == late.watch_id
    report = RULES["performance.report_missing"]
    june = [w for w in start_all(report, "performance.GoalsSet", goals_set(), CALENDAR, "e",
                                 occurred_on=date(2026, 5, 6)) if w.counts_from == date(2026, 6, 30)]
    assert settled_ahead(report, "ind-1", date(2026, 6, 30)) == june[0].watch_id, "one reporting point's clock"
    # A clock per human step is started and met by alerting's own events, stored in order: nothing to settle.
    assert settled_ahead(RULES["workflow.alert_not_handled"], "a-1", None) is None


def goals_set(**overrides) -> dict:
    return {"goal_id": "g-1", "indicator_id": "ind-1", "fiscal_year": 2026, "org_unit": "220102",
            "owner_division": "agriculture", "goal": "完成200户危房改造", "indicators": []} | overrides


def test_jx003_expects_a_report_at_each_reporting_point_still_ahead_when_the_goals_are_set():
    rule = Rule(**RULES["performance.report_missing"].model_dump() | {"parameters": {"points": ["Q1", "H1", "Q3"],
                                                                                     "days": 10}})
    watches = start_all(rule, "performance.GoalsSet", goals_set(), CALENDAR, "e", occurred_on=date(2026, 5, 6))
    # March has passed when the goals are set in May: only June and September are expected.
    assert [w.counts_from for w in watches] == [date(2026, 6, 30), date(2026, 9, 30)]
    assert len({w.watch_id for w in watches}) == 2
    # 2026-06-30 + 10 working days: 07-14; 2026-09-30 + 10 after the National Day holidays (10-10 is a
    # 调休 working Saturday): 10-20.
    assert [w.due_at.date() for w in watches] == [date(2026, 7, 14), date(2026, 10, 20)]
    assert all(w.bell_at is None for w in watches), "the bell is the alert itself, once the time has run out"
    # A report for the half year, the quarter or the month of June meets June's clock, and only that one.
    for period, end in (("2026-H1", "2026-06-30"), ("2026-Q2", "2026-06-30"), ("2026-06", "2026-06-30")):
        assert meets(rule, "performance.ProgressReported",
                     {"indicator_id": "ind-1", "period": period, "period_end": end}) == ("ind-1", date(2026, 6, 30))
    bell = breach(rule, "ind-1", watches[0].facts, ringing=False)
    assert bell.period == "2026-06" and "截至 2026-06-30" in bell.summary and "2026-07-14" in bell.summary
    assert breach(rule, "ind-1", watches[1].facts, ringing=False).period == "2026-09"


def test_jx003_starts_the_mid_year_point_by_default():
    rule = RULES["performance.report_missing"]
    watches = start_all(rule, "performance.GoalsSet", goals_set(), CALENDAR, "e", occurred_on=date(2026, 3, 2))
    assert [w.counts_from for w in watches] == [date(2026, 6, 30)]
    late = start_all(rule, "performance.GoalsSet", goals_set(), CALENDAR, "e", occurred_on=date(2026, 7, 1))
    assert late == [], "goals set after the last point expect no report this year"


@pytest.mark.parametrize("points,message", [
    pytest.param([], "lists the reporting points", id="none"),
    pytest.param(["H3"], "reporting point 'H3'", id="no-such-half"),
    pytest.param(["13"], "reporting point '13'", id="no-such-month"),
])
def test_jx003_refuses_reporting_points_it_cannot_place_in_the_year(points, message):
    definition = RULES["performance.report_missing"].model_dump() | {"parameters": {"points": points, "days": 10}}
    with pytest.raises(ValueError, match=message):
        Rule(**definition)


def report_step(kind: str, step: str, month: str = "2026-11", division: str = "agriculture") -> dict:
    """A monthly report's step as sync publishes it (sync.MonthlyReportStepped)."""
    end = {"2026-11": "2026-11-30", "2026-12": "2026-12-31"}[month]
    return {"report_id": f"mr-{month}-{division}-v1", "kind": kind, "month": month, "fiscal_year": 2026,
            "period_end": end, "division": division, "step": step, "from_status": "draft", "to_status": "submitted",
            "actor": "someone", "at": f"{end}T09:00:00+08:00"}


def test_lc005_expects_each_divisions_monthly_report_by_the_fifth_working_day_of_the_next_month():
    rule = RULES["workflow.division_report_missing"]
    # A division that owns funds from 2026-10-09 owes the treasury its report of October, November and December.
    watches = start_all(rule, REGISTERED, registered(org_unit="220102"), CALENDAR, "e", occurred_on=date(2026, 10, 9))
    assert [w.counts_from for w in watches] == [date(2026, 10, 31), date(2026, 11, 30), date(2026, 12, 31)]
    assert {w.subject_id for w in watches} == {"agriculture"}
    # November's report: the 5th working day of December is Monday 12-07; the bell rings 2 working days before.
    november = watches[1]
    assert november.due_at == datetime(2026, 12, 7, 23, 59, 59, 999999, tzinfo=SHANGHAI)
    assert november.bell_at == datetime(2026, 12, 3, tzinfo=SHANGHAI)
    # The same division's next indicator starts the same clocks again (the same ids: nothing new).
    again = start_all(rule, REGISTERED, registered(indicator_id="ind-2"), CALENDAR, "e2", occurred_on=date(2026, 11, 2))
    assert {w.watch_id for w in again} <= {w.watch_id for w in watches}
    # Submitting November's report meets November's clock only; a draft, an edit or a city report meets none.
    assert meets(rule, "sync.MonthlyReportStepped", report_step("division", "submit")) == ("agriculture",
                                                                                             date(2026, 11, 30))
    assert meets(rule, "sync.MonthlyReportStepped", report_step("division", "edit")) is None
    assert meets(rule, "sync.MonthlyReportStepped", report_step("city", "send", division="treasury")) is None
    bell = breach(rule, "agriculture", november.facts, ringing=True)
    assert bell.period == "2026-11" and "agriculture" in bell.summary and "2026-12-07" in bell.summary


def test_lc006_expects_the_city_report_sent_by_the_tenth_working_day_after_the_month_closed():
    rule = RULES["workflow.city_report_not_sent"]
    closed = {"month": "2026-11", "closed_on": "2026-11-30", "fiscal_year": 2026, "time_progress": "0.9151"}
    watch = start(rule, "alerting.MonthClosed", closed, CALENDAR, "e", occurred_on=date(2026, 12, 1))
    assert watch.subject_id == "2026-11" and watch.counts_from == date(2026, 11, 30)
    assert watch.due_at.date() == CALENDAR.add_workdays(date(2026, 11, 30), 10) == date(2026, 12, 14)
    assert CALENDAR.add_workdays(watch.bell_at.date(), 2) == date(2026, 12, 14)
    # Only the city report's sending meets it: not its consolidation, nor a division's submission.
    assert meets(rule, "sync.MonthlyReportStepped", report_step("city", "send", division="treasury")) == (
        "2026-11", None)
    assert meets(rule, "sync.MonthlyReportStepped", report_step("city", "consolidate", division="treasury")) is None
    assert meets(rule, "sync.MonthlyReportStepped", report_step("division", "submit")) is None
    assert "2026-11 月的全市月报" in breach(rule, "2026-11", watch.facts, ringing=False).summary


UNKNOWN_INDICATOR = "spending.payment_indicator_unknown"
PAID = "payments.PaymentRecorded"


def paid(**overrides) -> dict:
    return {"payment_id": "p-1", "indicator_id": "ind-9", "payer_name": "南关区农业农村局", "payee_name": "某合作社",
            "amount": "800.00", "paid_at": "2026-03-01T10:00:00+08:00", "org_unit": "220102"} | overrides


@pytest.mark.parametrize("payload,starts", [
    pytest.param(paid(), True, id="ZC-009-a-payment-naming-an-indicator"),
    pytest.param(paid(indicator_id=None), False, id="ZC-009-near-miss-no-indicator-is-ZC-002s"),
])
def test_zc009_a_payment_naming_an_indicator_starts_the_wait_for_it(payload, starts):
    watch = start(RULES[UNKNOWN_INDICATOR], PAID, payload, CALENDAR, occurred_on=date(2026, 9, 25))
    assert (watch is not None) is starts


def test_zc009_counts_from_the_day_the_payment_was_seen_not_the_day_it_was_paid():
    # Seen Friday 2026-09-25 (paid in March): the bell the next working day (Monday), red at Tuesday's end.
    watch = start(RULES[UNKNOWN_INDICATOR], PAID, paid(), CALENDAR, occurred_on=date(2026, 9, 25))
    assert watch.bell_at == datetime(2026, 9, 28, tzinfo=SHANGHAI)
    assert watch.due_at == datetime(2026, 9, 29, 23, 59, 59, 999999, tzinfo=SHANGHAI)
    assert watch.watch_id == watch_id_for(UNKNOWN_INDICATOR, "ind-9"), "one wait per indicator, not per payment"


def test_zc009_the_registration_settles_the_wait_also_when_it_came_first():
    rule = RULES[UNKNOWN_INDICATOR]
    assert meets(rule, REGISTERED, registered(indicator_id="ind-9")) == ("ind-9", None)
    assert settled_ahead(rule, "ind-9", None) == start(rule, PAID, paid(), CALENDAR, occurred_on=date(2026, 9, 25)
                                                       ).watch_id
    assert rule.deadline.late_clears, "a registration after the red clears it: the payment had its budget after all"


def test_zc009_names_the_payment_and_the_indicator_it_could_not_find():
    rule = RULES[UNKNOWN_INDICATOR]
    watch = start(rule, PAID, paid(), CALENDAR, occurred_on=date(2026, 9, 25))
    found = breach(rule, "ind-9", watch.facts, ringing=False)
    assert found.subject.kind == "indicator" and found.subject.indicator_id == "ind-9"
    assert "p-1" in found.summary and "ind-9" in found.summary and found.values["event.amount"] == "800.00"


RECTIFICATION = "performance.rectification_overdue"
REVIEWED = "performance.FilingReviewed"


def reviewed(**overrides) -> dict:
    return {"goal_id": "g-1", "indicator_id": "ind-1", "fiscal_year": 2026, "org_unit": "220102",
            "owner_division": "agriculture", "filing": "goals", "return_id": "g-1/goals#1", "decision": "returned",
            "reasons": "满意度目标偏低", "rectify_by": "2026-10-09"} | overrides


@pytest.mark.parametrize("payload,starts", [
    pytest.param(reviewed(), True, id="JX-004-a-return-with-its-date"),
    pytest.param(reviewed(decision="accepted", rectify_by=None, return_id=None), False, id="JX-004-near-miss-accepted"),
    pytest.param(reviewed(return_id=None), False, id="JX-004-near-miss-stored-before-return-ids"),
])
def test_jx004_a_returned_filing_starts_the_wait_for_its_rectification(payload, starts):
    watch = start(RULES[RECTIFICATION], REVIEWED, payload, CALENDAR)
    assert (watch is not None) is starts


def test_jx004_rings_two_working_days_before_the_date_to_rectify_by_and_runs_out_at_its_end():
    watch = start(RULES[RECTIFICATION], REVIEWED, reviewed(), CALENDAR)
    # 2026-10-09 (Friday) after the National Day holidays: two working days before it is 09-30.
    assert watch.bell_at == datetime(2026, 9, 30, tzinfo=SHANGHAI)
    assert watch.due_at == datetime(2026, 10, 9, 23, 59, 59, 999999, tzinfo=SHANGHAI)
    again = start(RULES[RECTIFICATION], REVIEWED, reviewed(return_id="g-1/goals#2"), CALENDAR)
    assert again.watch_id != watch.watch_id, "a second return of the same filing waits again, as an alert of its own"


def test_jx004_is_met_by_the_filing_that_answers_the_return_and_not_by_another():
    rule = RULES[RECTIFICATION]
    assert meets(rule, "performance.GoalsSet", {"goal_id": "g-1", "answers_return": "g-1/goals#1"}) == (
        "g-1/goals#1", None)
    assert meets(rule, "performance.ProgressReported", {"goal_id": "g-1", "answers_return": "g-1-2026-H1#2"}) == (
        "g-1-2026-H1#2", None)
    assert meets(rule, "performance.SelfEvaluated", {"goal_id": "g-1", "answers_return": None}) is None
    assert not rule.deadline.late_clears, "a late filing leaves the light to its division's verification (第十九条)"


def test_jx004_explains_which_filing_came_back_and_why():
    rule = RULES[RECTIFICATION]
    watch = start(rule, REVIEWED, reviewed(), CALENDAR)
    found = breach(rule, watch.subject_id, watch.facts, ringing=True)
    assert found.subject.kind == "filing" and found.subject.id == "g-1/goals#1"
    assert found.subject.indicator_id == "ind-1"
    assert found.summary.startswith("将于 2026-10-09 到期") and "满意度目标偏低" in found.summary
