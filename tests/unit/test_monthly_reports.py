"""The monthly report (月报, 第二十四条): its two transition tables, the separation of duties of its sign-offs, the
month's bounds in Beijing time, the figures per fund and per district, the alerts' summary, which divisions a
city report lacks, and the printable workbook."""

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from python_calamine import CalamineWorkbook

from backbone.lifecycle import StepOutOfTurn
from backbone.workdays import SHANGHAI, WorkdayCalendar
from contracts.province import FundFigures, MonthFigures, MonthlyReport, PAYLOADS, MessageKind
from contracts.values import AlertLevel
from services.sync.reports.figures import (AlertFact, Month, MoneyRow, SubmittedReport, alert_summary,
                                           division_parts, missing_divisions, money, time_progress)
from services.sync.reports.lifecycle import (CITY_TRANSITIONS, DIVISION_TRANSITIONS, ReportKind, ReportStatus,
                                             ReportStep, SeparationOfDuties, after, check_duties)
from services.sync.reports.records import ReportOut
from services.sync.reports.workbook import report_workbook, title_of

S, P, K = ReportStatus, ReportStep, ReportKind


@pytest.mark.parametrize("kind,status,step,to", [
    (K.DIVISION, S.DRAFT, P.EDIT, S.DRAFT),
    (K.DIVISION, S.DRAFT, P.SUBMIT, S.SUBMITTED),
    (K.DIVISION, S.SUBMITTED, P.CONSOLIDATE, S.CONSOLIDATED),
    (K.CITY, S.CONSOLIDATED, P.EDIT, S.CONSOLIDATED),
    (K.CITY, S.CONSOLIDATED, P.APPROVE_SUSPICIOUS, S.SUPERVISION_REVIEWED),
    (K.CITY, S.CONSOLIDATED, P.RETURN_SUSPICIOUS, S.RETURNED),
    (K.CITY, S.SUPERVISION_REVIEWED, P.COSIGN, S.COSIGNED),
    (K.CITY, S.SUPERVISION_REVIEWED, P.REFUSE_COSIGNATURE, S.RETURNED),
    (K.CITY, S.COSIGNED, P.SEND, S.SENT),
    (K.CITY, S.SENT, P.ACKNOWLEDGE, S.ACKNOWLEDGED),
    (K.CITY, S.SENT, P.RETURN, S.RETURNED),
])
def test_each_step_where_its_kinds_table_has_it(kind, status, step, to):
    assert after(kind, status, step, "mr-1") is to


@pytest.mark.parametrize("kind,status,step", [
    # A report cannot be co-signed before the supervision bureau signed its suspicious items off.
    (K.CITY, S.CONSOLIDATED, P.COSIGN),
    # A division report never goes to the province by itself, nor through the city's sign-offs.
    (K.DIVISION, S.SUBMITTED, P.APPROVE_SUSPICIOUS),
    (K.DIVISION, S.CONSOLIDATED, P.SEND),
    # A submitted or sent report never changes in place.
    (K.DIVISION, S.SUBMITTED, P.EDIT),
    (K.CITY, S.SENT, P.EDIT),
    (K.CITY, S.ACKNOWLEDGED, P.RETURN),
    (K.CITY, S.RETURNED, P.SEND),
])
def test_a_step_out_of_turn_is_a_409_naming_where_the_report_stands(kind, status, step):
    with pytest.raises(StepOutOfTurn) as refused:
        after(kind, status, step, "mr-9")
    assert refused.value.status == 409 and status.value in refused.value.detail


def test_every_status_is_reached_and_only_returned_and_acknowledged_end_a_city_report():
    reached = {to for to in CITY_TRANSITIONS.values()} | {to for to in DIVISION_TRANSITIONS.values()} | {S.DRAFT}
    assert reached == set(ReportStatus)
    ends = {s for s in ReportStatus if not any(at == s for at, _ in CITY_TRANSITIONS)} - {S.DRAFT, S.SUBMITTED}
    assert ends == {S.ACKNOWLEDGED, S.RETURNED}


def test_the_preparer_is_refused_the_sign_offs_with_the_reason():
    check_duties("poverty-1", P.COSIGN, "mr-1", prepared_by="treasury-1", signed_off_by="sup-1")
    with pytest.raises(SeparationOfDuties) as refused:
        check_duties("treasury-1", P.COSIGN, "mr-1", prepared_by="treasury-1")
    assert refused.value.status == 403 and "separation of duties" in refused.value.detail
    with pytest.raises(SeparationOfDuties) as refused:
        check_duties("sup-1", P.COSIGN, "mr-1", prepared_by="treasury-1", signed_off_by="sup-1")
    assert "signed off the suspicious items" in refused.value.detail


def test_a_month_is_bounded_by_beijing_midnights():
    m = Month.parse("2026-12")
    assert str(m) == "2026-12" and m.last_day == date(2026, 12, 31)
    assert m.start == datetime(2026, 12, 1, tzinfo=SHANGHAI)
    assert m.end == datetime(2027, 1, 1, tzinfo=SHANGHAI)
    # 2026-12-31 16:30 UTC is already 2027-01-01 00:30 in Beijing: the month is over.
    assert m.over_by(datetime(2026, 12, 31, 16, 30, tzinfo=UTC))
    assert not m.over_by(datetime(2026, 12, 31, 15, 59, tzinfo=UTC))
    assert Month.parse("2026-02").last_day == date(2026, 2, 28)
    assert time_progress(Month.parse("2026-12")) == Decimal("1.0000")


@pytest.mark.parametrize("text", ["2026-13", "2026-1", "26-11", "2026/11", ""])
def test_a_month_is_written_like_2026_11(text):
    with pytest.raises(ValueError):
        Month.parse(text)


def test_money_per_district_and_per_fund_with_payment_progress():
    d = Decimal
    districts, funds, totals = money([
        MoneyRow("220102", "衔接资金", "received", d("1000.00")), MoneyRow("220102", "衔接资金", "paid", d("300.00")),
        MoneyRow("220102", "衔接资金", "refunded", d("50.00")), MoneyRow("220103", "衔接资金", "received", d("500.00")),
        MoneyRow("220103", "以工代赈", "received", d("200.00")), MoneyRow("220103", "以工代赈", "allocated", d("100.00")),
    ])
    assert [x.org_unit for x in districts] == ["220102", "220103"]
    nanguan = districts[0]
    assert nanguan.org_unit_name == "南关区"
    assert nanguan.totals.available == d("750.00") and nanguan.totals.payment_progress == d("0.2500")
    by_name = {f.fund_name: f for f in funds}
    assert by_name["衔接资金"].received == d("1500.00") and by_name["衔接资金"].paid == d("300.00")
    assert by_name["以工代赈"].available == d("100.00")
    assert totals.received == d("1700.00") and totals.available == d("1350.00")
    assert money([]) == ([], [], FundFigures(fund_name="合计", received=d(0), allocated=d(0), paid=d(0),
                                             refunded=d(0), available=d(0), payment_progress=None))


def test_alerts_raised_in_the_month_by_level_and_rule_and_those_still_open_with_working_days():
    m = Month.parse("2026-11")
    at = datetime(2026, 11, 2, 10, tzinfo=SHANGHAI)
    facts = [AlertFact("a1", "ZC-003", "220102", at, AlertLevel.YELLOW, "open"),
             AlertFact("a2", "ZC-003", "220102", at, AlertLevel.YELLOW, "green"),
             AlertFact("a3", "ZB-001", "220103", at, AlertLevel.RED, "open"),
             # raised in October, still open: not raised this month, but still open at its end
             AlertFact("a0", "ZB-001", None, datetime(2026, 10, 30, 9, tzinfo=SHANGHAI), AlertLevel.RED, "open")]
    s = alert_summary(m, facts, green=1, red=2, calendar=WorkdayCalendar())
    assert [(r.level, r.rule_number, r.count) for r in s.raised] == [
        (AlertLevel.RED, "ZB-001", 1), (AlertLevel.YELLOW, "ZC-003", 2)]
    assert (s.handled_green, s.handled_red) == (1, 2)
    assert [o.alert_id for o in s.still_open] == ["a0", "a1", "a3"]
    # From Monday 2 November to Monday 30 November 2026: 20 working days after the raising.
    assert s.still_open[1].working_days == 20


def test_a_division_missing_is_named_unless_the_treasury_recorded_why_it_goes_without():
    assert missing_divisions(["agriculture", "education"], ["agriculture"], {}) == ["education"]
    assert missing_divisions(["agriculture", "education"], ["agriculture"], {"education": "无资金"}) == []
    totals = FundFigures(fund_name="合计", received=Decimal("1.00"), allocated=Decimal(0), paid=Decimal(0),
                         refunded=Decimal(0), available=Decimal("1.00"), payment_progress=Decimal(0))
    parts = division_parts(["agriculture", "education"],
                           [SubmittedReport("mr-1", "agriculture", 1, totals, "ok")], {"education": "无资金"})
    assert [(p.division, p.report_id, p.without_reason) for p in parts] == [
        ("agriculture", "mr-1", None), ("education", None, "无资金")]


def _figures() -> MonthFigures:
    districts, funds, totals = money([MoneyRow("220102", "衔接资金", "received", Decimal("1000.00")),
                                      MoneyRow("220102", "衔接资金", "paid", Decimal("400.00"))])
    m = Month.parse("2026-11")
    return MonthFigures.model_validate({
        "as_of": m.end, "time_progress": time_progress(m), "districts": districts, "funds": funds, "totals": totals,
        "alerts": alert_summary(m, [], 0, 0, WorkdayCalendar()),
        "disposals": {"violations_confirmed": 0, "recovered": "0.00", "measures": []},
        "performance": {"goals_set": 1, "reports_filed": 0, "severe_deviations": 0}, "suspicious": []})


def test_the_workbook_has_the_title_unit_preparer_date_and_signature_lines():
    now = datetime(2026, 12, 2, 3, tzinfo=UTC)
    report = ReportOut(report_id="mr-2026-11-city-v1", kind=K.CITY, month="2026-11", division="treasury", version=1,
                       corrects=None, status=S.SENT, prepared_by="treasury-1", analysis="=1+1 不是公式",
                       figures=_figures(), divisions=[], supervision_opinion="同意", supervised_by="sup-1",
                       cosigner="poverty-1", cosigned_at=now, cosignature_opinion=None, message_id="m",
                       province_reason=None, consolidated_into=None, created_at=now, updated_at=now)
    book = CalamineWorkbook.from_filelike(io.BytesIO(report_workbook(report).body))
    cells = [str(c) for row in book.get_sheet_by_name("月报").to_python() for c in row if c != ""]
    assert cells[0] == title_of(report) == "长春市财政扶贫资金动态监控情况月报（2026年11月）"
    assert {"填报单位：", "填报人：", "日期：", "长春市财政局国库处", "treasury-1", "2026-12-02"} <= set(cells)
    assert any(c.startswith("局脱贫办会签（签字）") for c in cells) and any(c.startswith("监督局（签字）") for c in cells)
    assert "=1+1 不是公式" in cells  # typed-in text stays text
    assert "40.00%" in cells  # payment progress beside 序时进度


def test_the_monthly_report_message_has_its_schema():
    assert PAYLOADS[MessageKind.MONTHLY_REPORT] is MonthlyReport
