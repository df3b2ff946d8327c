"""Performance duties of issue 18: a goal set right after its indicator was registered (read-your-writes, the
ledger asked), and a returned filing's 整改期限 (第十一条(五)): a bell cleared by the filing in time, else a yellow light."""

import asyncio
from datetime import timedelta

import httpx
import pytest

from backbone.clock import clock
from backbone.identity import IDENTITY_HEADER, audience_of, issue_internal_token
from backbone.settings import get_settings
from tests.e2e import clocks, db
from tests.e2e.conftest import indicator_body
from tests.e2e.people import forwarded, signed_in
from tests.e2e.test_performance import GOALS
from tests.support.waiting import poll

pytestmark = pytest.mark.e2e
RECTIFICATION = "performance.rectification_overdue"


def owner() -> dict[str, str]:
    return signed_in("农业处-绩效-孙", ["division"], division="agriculture")


def budget() -> dict[str, str]:
    return signed_in("预算处-绩效-郑", ["budget"], division="budget")


def test_goals_set_at_once_after_the_registration_are_taken_as_the_ledger_answered(stack, servers):
    admin, division = stack.admin_headers(), owner()
    with stack.client() as c:
        # Register, then set the goals at once: performance may not have heard of the indicator yet.
        indicator = c.post("/indicators", json=indicator_body("800000.00"), headers=division).json()["id"]
        filed = c.post("/performance-goals", json={"indicator_id": indicator, **GOALS}, headers=division)
        assert filed.status_code == 201, filed.text
        assert (filed.json()["fiscal_year"], filed.json()["owner_division"]) == (2026, "agriculture")

        # However the race went: an indicator missing from performance's read model is asked of the ledger.
        other = c.post("/indicators", json=indicator_body("600000.00"), headers=division).json()["id"]
        assert poll(lambda: asyncio.run(db.execute(
            servers.database_url, "DELETE FROM performance.indicators WHERE indicator_id = $1", other)) == 1)
        again = c.post("/performance-goals", json={"indicator_id": other, **GOALS}, headers=division)
        assert again.status_code == 201, again.text

        # Neither performance nor the ledger knows it: refused, naming the field.
        unknown = c.post("/performance-goals", json={"indicator_id": "no-such-indicator", **GOALS}, headers=division)
        assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "indicator_id"
        # The ledger answers within the caller's scope: another division's indicator is not theirs to set goals on.
        education = signed_in("教科文处-绩效-吴", ["division"], division="education")
        hidden = c.post("/indicators", json=indicator_body("500000.00"), headers=admin).json()["id"]
        # (403 once performance has heard of it; before, the ledger does not show it to them: 422)
        assert c.post("/performance-goals", json={"indicator_id": hidden, **GOALS},
                      headers=education).status_code in (403, 422)


def test_a_service_asked_without_an_identity_for_the_ledger_does_not_reach_it(stack, servers):
    # An identity signed for performance only (not through POST /performance-goals at the gateway) cannot be
    # replayed at the ledger: the goal waits for performance to hear of the indicator.
    only_performance = forwarded("农业处-直连", ["division"], division="agriculture")
    with stack.client() as c:
        indicator = c.post("/indicators", json=indicator_body("300000.00"), headers=owner()).json()["id"]
    assert poll(lambda: asyncio.run(db.execute(
        servers.database_url, "DELETE FROM performance.indicators WHERE indicator_id = $1", indicator)) == 1)
    token = issue_internal_token(only_performance.principal, get_settings().identity_private_key.get_secret_value(),
                                 audience_of("performance"))
    refused = httpx.post(f"{stack.processes.url('performance')}/api/v1/performance-goals",
                         headers={IDENTITY_HEADER: token}, json={"indicator_id": indicator, **GOALS})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "indicator_id"


def rectification(stack, admin, filing_id: str) -> dict | None:
    return clocks.alert_of(f"{stack.gateway}/api/v1", admin, RECTIFICATION, filing_id)


async def pass_time(database_url: str, column: str, filing_id: str, state: str) -> int:
    return await clocks.move(database_url, column, filing_id, RECTIFICATION, state=state)


def test_a_returned_filing_rings_before_its_date_clears_when_filed_in_time_and_turns_yellow_when_not(stack, servers):
    admin, division, reviewer = stack.admin_headers(), owner(), budget()
    rectify_by = (clock().today() + timedelta(days=30)).isoformat()
    with stack.client() as c:
        indicator = c.post("/indicators", json=indicator_body("700000.00"), headers=division).json()["id"]
        goal = c.post("/performance-goals", json={"indicator_id": indicator, **GOALS}, headers=division).json()

        def returned() -> None:
            r = c.post(f"/performance-goals/{goal['id']}/reviews", headers=reviewer, json={
                "decision": "returned", "reasons": "满意度目标偏低，请细化", "rectify_by": rectify_by})
            assert r.status_code == 200, r.text

        def refiled() -> None:
            r = c.post("/performance-goals", json={"indicator_id": indicator, **GOALS}, headers=division)
            assert r.status_code == 201, r.text

        def clock_of(return_id: str) -> list[str]:
            return [k["state"] for k in asyncio.run(clocks.of(servers.database_url, return_id, RECTIFICATION))]

        # Returned with a date: the clock waits; two working days before the date the bell rings.
        first = f"{goal['id']}/goals#1"
        returned()
        assert poll(lambda: clock_of(first) == ["waiting"])
        assert asyncio.run(pass_time(servers.database_url, "bell_at", first, "waiting")) == 1
        bell = poll(lambda: rectification(stack, admin, first))
        assert (bell["level"], bell["status"], bell["owner_division"]) == ("yellow_bell", "open", "agriculture")
        assert bell["subject"] == {"kind": "filing", "id": first, "indicator_id": indicator}
        # Filed again in time: the bell clears itself.
        refiled()
        assert poll(lambda: rectification(stack, admin, first)["status"] == "cleared")

        # Returned again, an alert of its own, and the date passes: the bell turns into a yellow light.
        second = f"{goal['id']}/goals#2"
        returned()
        assert poll(lambda: clock_of(second) == ["waiting"])
        assert asyncio.run(pass_time(servers.database_url, "bell_at", second, "waiting")) == 1
        assert poll(lambda: rectification(stack, admin, second))
        assert asyncio.run(pass_time(servers.database_url, "due_at", second, "ringing")) == 1
        assert poll(lambda: rectification(stack, admin, second)["level"] == "yellow")
        assert rectification(stack, admin, second)["status"] == "open"
        assert rectification(stack, admin, first)["status"] == "cleared", "the first return's bell stays cleared"
        # The filing comes late: a light is not undone by late work, its division verifies it (第十九条(二)).
        refiled()
        assert poll(lambda: clock_of(second) == ["expired"])
        assert rectification(stack, admin, second)["status"] == "open"
