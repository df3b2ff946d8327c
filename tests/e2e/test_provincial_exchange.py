"""The daily rollup (日报, 第二十六条(二)) and the exchange with the provincial platform (数据交换, 第十四条(一)),
end to end against the simulator: rollups wait for the poverty office's authorization (第二十七条), pile up while
the province is down and arrive exactly once when it is back, a re-run makes a new version only for changed
numbers, and a returned message waits in the information center's queue until it is resent."""

from datetime import timedelta
from uuid import uuid4

import httpx
import pytest

from backbone.clock import clock
from services.sync.domain import DISTRICTS
from tests.e2e import quiet
from tests.e2e.conftest import indicator_body, payment_body
from tests.e2e.people import signed_in
from tests.support.waiting import poll

pytestmark = pytest.mark.e2e


@pytest.fixture
def province(stack):
    """The simulator, answering again whatever a test told it."""
    with httpx.Client(base_url=stack.province, timeout=10) as client:
        yield client
        client.post("/faults", json={"down": False, "delay_ms": 0, "return_next": False}).raise_for_status()


@pytest.fixture(scope="module")
def people(stack):
    return {"info": signed_in("exchange-info", ["info_center"]),
            "poverty": signed_in("exchange-poverty", ["poverty_office"]),
            "treasury": signed_in("exchange-treasury", ["treasury"]),
            "district": signed_in("exchange-district", ["district"], org_unit="220102")}


def yesterday():
    return clock().today() - timedelta(days=1)


def rollups(stack, headers, **query) -> list[dict]:
    with stack.client() as c:
        r = c.get("/rollups", params=query | {"limit": 1000}, headers=headers)
        assert r.status_code == 200, r.text
        return r.json()["items"]


def messages(stack, headers, **query) -> list[dict]:
    with stack.client() as c:
        r = c.get("/exchange/messages", params=query | {"limit": 1000}, headers=headers)
        assert r.status_code == 200, r.text
        return r.json()["items"]


def received(province) -> dict[str, dict]:
    return {item["message_id"]: item for item in province.get("/received").json()["items"]}


def test_rollups_wait_for_the_authorization_pile_up_while_the_province_is_down_and_arrive_once(stack, province,
                                                                                               people):
    # After midnight the scheduler rolled yesterday up for every district.
    day = yesterday().isoformat()
    made = poll(lambda: len(rows := rollups(stack, people["info"], date=day)) == len(DISTRICTS) and rows)
    assert made, "yesterday was not rolled up for every district"
    assert {r["org_unit"] for r in made} == set(DISTRICTS)
    assert {r["version"] for r in made} == {1} and {r["reason"] for r in made} == {"daily"}
    # A district sees its own day only.
    assert [r["org_unit"] for r in rollups(stack, people["district"], date=day)] == ["220102"]
    # Without the poverty office's standing authorization nothing goes to the province.
    assert {r["exchange_status"] for r in made} == {"awaiting_authorization"}
    assert not set(received(province)) & {r["message_id"] for r in made}

    # The province goes down; then the poverty office authorizes the daily rollup.
    province.post("/faults", json={"down": True}).raise_for_status()
    with stack.client() as c:
        r = c.post("/exchange/authorizations", json={"kind": "daily_rollup"}, headers=people["poverty"])
        assert r.status_code == 201, r.text
        # Only the poverty office authorizes.
        assert c.post("/exchange/authorizations", json={"kind": "daily_rollup"},
                      headers=people["info"]).status_code == 403
    ids = {r["message_id"] for r in made}

    # The messages pile up as pending, each attempt counted.
    def retried() -> bool:
        mine = [m for m in messages(stack, people["info"], kind="daily_rollup") if m["message_id"] in ids]
        return len(mine) == len(ids) and all(m["attempts"] >= 2 and m["status"] in ("pending", "sent") for m in mine)
    assert poll(retried, timeout=60)
    assert not set(received(province)) & ids

    # The province is back: every message arrives, exactly once, and ends acknowledged with its receipt.
    province.post("/faults", json={"down": False}).raise_for_status()
    assert poll(lambda: {r["exchange_status"] for r in rollups(stack, people["info"], date=day)} == {"acknowledged"},
                timeout=60)
    held = received(province)
    assert ids <= held.keys()
    assert {held[i]["count"] for i in ids} == {1}
    assert {held[i]["kind"] for i in ids} == {"daily_rollup"}
    acknowledged = [m for m in messages(stack, people["info"], status="acknowledged") if m["message_id"] in ids]
    assert len(acknowledged) == len(ids) and all(m["receipt"]["status"] == "accepted" for m in acknowledged)


def test_a_rerun_makes_a_new_version_only_where_a_late_correction_changed_the_numbers(stack, servers, people):
    day = yesterday()
    assert poll(lambda: len(rollups(stack, people["info"], date=day.isoformat())) == len(DISTRICTS))
    # A payment made yesterday in 宽城区 is reported today: a late correction of yesterday.
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    with stack.client() as c:
        r = c.post("/indicators", json=indicator_body("800.00", org_unit="220103"), headers=admin)
        assert r.status_code == 201, r.text
        paid_at = f"{day.isoformat()}T15:00:00+08:00"
        batch = {"payments": [payment_body(f"late-{uuid4().hex[:8]}", r.json()["id"], "120.00", org_unit="220103",
                                           paid_at=paid_at)]}
        assert c.post("/payments/batch", json=batch, headers=treasury).status_code == 200
    quiet.settle(servers)
    with stack.client() as c:
        first = c.post(f"/rollups/{day.isoformat()}/rerun", headers=people["treasury"])
        assert first.status_code == 200, first.text
        # A re-run with nothing changed since makes nothing new.
        again = c.post(f"/rollups/{day.isoformat()}/rerun", headers=people["treasury"])
        assert again.status_code == 200, again.text
        # Today is not over: it cannot be rolled up yet; a district does not re-run.
        assert c.post(f"/rollups/{clock().today().isoformat()}/rerun", headers=people["treasury"]).status_code == 422
        assert c.post(f"/rollups/{day.isoformat()}/rerun", headers=people["district"]).status_code == 403
    changed = {r["org_unit"]: r for r in first.json()["made"]}
    assert "220103" in changed
    new = changed["220103"]
    assert new["version"] >= 2 and new["reason"] == "rerun" and new["latest"]
    assert new["figures"]["totals"]["paid"] != "0.00"
    assert again.json()["made"] == [] and again.json()["unchanged"] == len(DISTRICTS)
    # Both versions are kept; the list shows the latest unless asked for all.
    versions = rollups(stack, people["info"], date=day.isoformat(), org_unit="220103", all_versions="true")
    assert sorted(v["version"] for v in versions) == list(range(1, new["version"] + 1))
    assert [v["version"] for v in rollups(stack, people["info"], date=day.isoformat(), org_unit="220103")] == [
        new["version"]]


def test_a_returned_message_waits_in_the_queue_until_the_information_center_resends_it(stack, servers, province,
                                                                                      people):
    day = (yesterday() - timedelta(days=1)).isoformat()
    # Authorized (once in the suite), the province returns the next message it gets.
    with stack.client() as c:
        r = c.post("/exchange/authorizations", json={"kind": "daily_rollup"}, headers=people["poverty"])
        assert r.status_code in (201, 409), r.text
    # Nothing else on its way, so that the message returned is one of this test's.
    assert poll(lambda: not any(messages(stack, people["info"], status=s) for s in ("pending", "sent")), timeout=60)
    province.post("/faults", json={"return_next": True}).raise_for_status()
    # The day before yesterday was never rolled up: its re-run makes a first version of each district.
    with stack.client() as c:
        r = c.post(f"/rollups/{day}/rerun", headers=people["info"])
        assert r.status_code == 200, r.text
    ids = {m["message_id"] for m in r.json()["made"]}
    assert len(ids) == len(DISTRICTS)
    refused = poll(lambda: [m for m in messages(stack, people["info"], status="refused") if m["message_id"] in ids],
                   timeout=60)
    assert len(refused) == 1, refused
    returned = refused[0]
    assert "退回" in returned["last_error"] and returned["receipt"]["status"] == "returned"
    # The others go through.
    assert poll(lambda: len([m for m in messages(stack, people["info"], status="acknowledged")
                             if m["message_id"] in ids]) == len(ids) - 1, timeout=60)
    # Only the information center (or an administrator) resends; an acknowledged message cannot be.
    with stack.client() as c:
        assert c.post(f"/exchange/messages/{returned['message_id']}/resend",
                      headers=people["poverty"]).status_code == 403
        again = c.post(f"/exchange/messages/{returned['message_id']}/resend", headers=people["info"])
        assert again.status_code == 200, again.text
        assert again.json()["status"] == "pending" and again.json()["attempts"] == 0
    assert poll(lambda: [m["status"] for m in messages(stack, people["info"], status="acknowledged")
                         if m["message_id"] == returned["message_id"]] == ["acknowledged"], timeout=60)
    with stack.client() as c:
        late = c.post(f"/exchange/messages/{returned['message_id']}/resend", headers=people["info"])
        assert late.status_code == 409 and late.json()["status_now"] == "acknowledged"
    # The province holds it once, though it arrived twice.
    assert received(province)[returned["message_id"]]["count"] == 2
    assert len([i for i in received(province) if i == returned["message_id"]]) == 1
