"""Measures that open a record (第二十二条(三)): which sheet takes them, their numbers, whom a circular is against."""

from datetime import UTC, datetime

import pytest

from contracts.alerting import DisposalSheet
from contracts.values import AlertAction, AlertLevel, AlertStatus
from services.alerting.lifecycle import AlertState
from services.alerting.measures import CIRCULATE, REFER, circulate, default_against, numbered, refer, takes

NOW = datetime(2026, 11, 28, 9, tzinfo=UTC)
SHEET = DisposalSheet(number="CLD-2026-000007", findings="拒不整改", handler="农业处-王", handler_division="agriculture",
                      measures=[REFER, CIRCULATE])


def alert(org_unit: str | None = "220102", owner_division: str | None = "agriculture") -> AlertState:
    return AlertState(alert_id="a-1", rule_id="spending.cash_above_limit", level=AlertLevel.RED,
                      status=AlertStatus.OPEN, org_unit=org_unit, owner_division=owner_division, escalate_to=None,
                      version=3)


def test_only_a_take_measure_sheet_naming_the_measure_takes_it():
    assert takes(REFER, AlertAction.TAKE_MEASURE, SHEET) and takes(CIRCULATE, AlertAction.TAKE_MEASURE, SHEET)
    assert not takes(REFER, AlertAction.RECORD_CORRECTION, SHEET)
    assert not takes(REFER, AlertAction.TAKE_MEASURE, SHEET.model_copy(update={"measures": ["移交有关部门"]}))


def test_numbers_run_per_year_with_their_kind():
    assert numbered("YJ", 2026, 12) == "YJ-2026-000012" and numbered("TB", 2027, 1) == "TB-2027-000001"


def test_a_referral_carries_the_sheet_and_who_referred():
    event = refer(alert(), "ZC-003", SHEET, "YJ-2026-000001", NOW)
    assert (event.sheet_number, event.referred_by, event.referred_by_division, event.findings) == (
        "CLD-2026-000007", "农业处-王", "agriculture", "拒不整改")


@pytest.mark.parametrize("org_unit,against", [
    pytest.param("220102", "district", id="a-districts-alert-against-the-district"),
    pytest.param("220100", "division", id="the-citys-alert-against-the-division"),
    pytest.param(None, "division", id="no-org-unit-against-the-division"),
])
def test_a_circular_is_against_the_district_of_a_districts_alert_else_the_division(org_unit, against):
    assert default_against(alert(org_unit=org_unit)) == against


def test_a_circular_against_nobody_is_refused():
    with pytest.raises(ValueError, match="no division"):
        circulate(alert(owner_division=None), "ZC-009", SHEET, "division", "TB-2026-000001", NOW)
    assert circulate(alert(), "ZC-003", SHEET, "division", "TB-2026-000001", NOW).owner_division == "agriculture"
