"""待办 (GET /api/v1/inbox): what waits for each person, within their scope, with counts, in one answer."""

from uuid import uuid4

import pytest

from tests.e2e.people import signed_in
from tests.e2e.test_alert_handling import cash_alert
from tests.e2e.test_permission_applications import APPLICATIONS, form, reviewer
from tests.support.waiting import poll

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def division(stack) -> dict[str, str]:
    """The agriculture division's person, signed in once for the module (a sign-in costs a password hash)."""
    return signed_in("农业处-王科长", ["division"], division="agriculture")


def inbox(c, headers: dict[str, str], **params) -> dict:
    r = c.get("/inbox", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_each_person_s_inbox_holds_what_their_roles_may_take_on_within_their_scope(stack, division):
    admin, treasury_system = stack.admin_headers(), stack.treasury_headers()
    district, other_district = (signed_in("南关区财政局-赵", ["district"], org_unit="220102"),
                                signed_in("宽城区财政局-钱", ["district"], org_unit="220103"))
    poverty_office = signed_in("局脱贫办-周", ["poverty_office"])
    with stack.client() as c:
        # A yellow light on an agriculture fund of 南关区: the division and the district may verify it.
        alert_id = cash_alert(c, admin, treasury_system)
        for person in (division, district):
            assert poll(lambda: any(i["id"] == alert_id for i in inbox(c, person, limit=1000)["items"]))
        mine = next(i for i in inbox(c, division, limit=1000)["items"] if i["id"] == alert_id)
        assert (mine["kind"], mine["label"], mine["level"], mine["link"]) == ("alert", "预警处理", "yellow",
                                                                              f"/alerts/{alert_id}")
        assert alert_id not in {i["id"] for i in inbox(c, other_district, limit=1000)["items"]}
        # Counts by every kind the person may take on; the division's own monthly report among them.
        counts = inbox(c, division)["counts"]
        assert set(counts) == {"alert", "report_submission"} and counts["alert"] >= 1
        # A permission application waits for the treasury's review, not for the poverty office.
        application = c.post(APPLICATIONS, json=form(f"inbox-{uuid4().hex[:6]}", 211), headers=district)
        assert application.status_code == 201, application.text
        waiting = inbox(c, reviewer(), limit=1000)
        assert application.json()["application_id"] in {i["id"] for i in waiting["items"]}
        assert waiting["counts"]["permission_review"] >= 1
        assert "permission_review" not in inbox(c, poverty_office)["counts"]
        # 局脱贫办 co-signs, and handles the alerts routed to it (LC-003 and others), none of them here.
        assert set(inbox(c, poverty_office)["counts"]) == {"alert", "export_cosignature", "report_cosignature"}


def test_the_inbox_pages_newest_first_and_refuses_a_bad_cursor(stack, division):
    admin, treasury_system = stack.admin_headers(), stack.treasury_headers()
    with stack.client() as c:
        for _ in range(2):
            cash_alert(c, admin, treasury_system)
        first = inbox(c, division, limit=1)
        assert len(first["items"]) == 1 and first["next_cursor"]
        second = inbox(c, division, limit=1, cursor=first["next_cursor"])
        assert second["items"][0]["at"] <= first["items"][0]["at"]
        assert second["items"][0]["id"] != first["items"][0]["id"]
        bad = c.get("/inbox", params={"cursor": "bm90LWEtY3Vyc29y"}, headers=division)
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"
        assert c.get("/inbox", params={"limit": 0}, headers=division).status_code == 422
