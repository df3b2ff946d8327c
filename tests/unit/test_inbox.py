"""待办: which kinds wait for whom (by the access table's steps), and how each is shown, without I/O."""

import pytest

from backbone.identity import Principal
from gateway.inbox.domain import InboxKind, counted, items_of, sources_for

AT = "2026-11-10T09:30:00+08:00"


@pytest.mark.parametrize("roles, kinds", [
    pytest.param(["division"], {"alert", "report_submission"}, id="division"),
    pytest.param(["district"], {"alert"}, id="district"),
    pytest.param(["budget"], {"alert", "filing_review"}, id="budget-reviews-goals-and-handles-its-alerts"),
    pytest.param(["treasury"], {"alert", "permission_review", "rule_proposal_review", "rule_proposal_approval"},
                 id="treasury-reviews-applications-and-rule-proposals"),
    pytest.param(["supervision"], {"alert", "report_supervision_review"}, id="supervision"),
    pytest.param(["poverty_office"], {"alert", "export_cosignature", "report_cosignature"},
                 id="poverty-office-cosigns-and-handles-its-alerts"),
    pytest.param(["info_center"], set(), id="nothing-waits"),
])
def test_each_role_s_inbox_has_the_kinds_whose_step_it_may_take(roles, kinds):
    assert {s.kind.value for s in sources_for(Principal(subject="p", roles=roles))} == kinds


def test_a_bell_is_nobody_s_work_and_lights_are_shown_with_their_level_and_page():
    rows = [{"id": "a1", "rule_number": "ZC-003", "rule_name": "大额现金", "level": "yellow", "step_since": AT,
             "raised_at": AT},
            {"id": "a2", "rule_number": "LC-001", "rule_name": "未及时处理", "level": "yellow_bell", "step_since": None,
             "raised_at": AT}]
    items = items_of(InboxKind.ALERT, rows)
    assert [(i.id, i.title, i.level, i.link, i.label) for i in items] == [
        ("a1", "ZC-003 大额现金", "yellow", "/alerts/a1", "预警处理")]
    assert counted(items, [InboxKind.ALERT, InboxKind.REPORT_SUBMISSION]) == {"alert": 1, "report_submission": 0}


def test_a_city_report_awaiting_co_signature_is_named_by_its_month():
    [item] = items_of(InboxKind.REPORT_COSIGNATURE, [{"report_id": "r1", "month": "2026-10", "kind": "city",
                                                      "updated_at": AT}])
    assert (item.title, item.link, item.label) == ("2026-10 全市月报", "/reports/r1", "月报会签")


def test_a_rule_proposal_waiting_for_review_is_named_by_its_rule_and_opens_the_rules_page():
    [item] = items_of(InboxKind.RULE_PROPOSAL_REVIEW, [{"proposal_id": "p1", "number": "ZC-003", "name": "大额现金",
                                                        "proposed_at": AT}])
    assert (item.id, item.title, item.link, item.label) == ("p1", "ZC-003 大额现金", "/rules", "规则申请审核")


def test_a_goal_awaiting_review_opens_the_console_s_performance_page():
    [item] = items_of(InboxKind.FILING_REVIEW, [{"id": "g1", "goal": "危房改造", "updated_at": AT}])
    assert (item.title, item.link) == ("危房改造", "/performance")
