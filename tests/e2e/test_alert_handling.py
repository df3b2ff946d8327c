"""Handling alerts with disposal sheets: who may act, which steps are possible, numbering, export, push."""

import io
from uuid import uuid4

import httpx
import pytest
from python_calamine import CalamineWorkbook

from tests.e2e.conftest import indicator_body, payment_body
from tests.e2e.pages import every
from tests.e2e.people import forwarded
from tests.e2e.test_scope_and_privacy import stream_events
from tests.support.waiting import poll

pytestmark = pytest.mark.e2e


OWNER = forwarded("农业处-王科长", ["division"], division="agriculture")
OTHER_DIVISION = forwarded("教科文处-李科长", ["division"], division="education")
DISTRICT = forwarded("南关区财政局-赵", ["district"], org_unit="220102")
OTHER_DISTRICT = forwarded("宽城区财政局-钱", ["district"], org_unit="220103")
SUPERVISION = forwarded("监督局-孙", ["supervision"])


def cash_alert(c, admin, treasury) -> str:
    """A cash payment above the single limit on an agriculture fund of 南关区: a yellow light (ZC-003)."""
    indicator = c.post("/indicators", json=indicator_body("100000.00"), headers=admin).json()["id"]
    pid = f"{uuid4().hex[:8]}-cash"
    c.post("/payments/batch", headers=treasury, json={"payments": [
        payment_body(pid, indicator, "2000.00", settlement_method="cash")]}).raise_for_status()
    found = poll(lambda: [a for a in c.get("/alerts", params={"rule": "spending.cash_above_limit", "limit": 1000},
                                           headers=admin).json()["items"] if a["subject"]["id"] == pid])
    assert found, "no yellow light for the cash payment"
    return found[0]["id"]


def test_a_yellow_light_is_verified_then_corrected_with_numbered_sheets_by_those_who_may(stack):
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    alerting = f"{stack.processes.url('alerting')}/api/v1"
    with stack.client() as c:
        alert_id = cash_alert(c, admin, treasury)
    url = f"{alerting}/alerts/{alert_id}/dispositions"
    confirm = {"action": "confirm_violation", "method": "调阅材料", "findings": "现金发放补助，未通过一卡通",
               "violation_type": "其他", "rectification": "改为转账发放并补齐签领手续"}
    # Out of scope: another district or division does not even see the alert.
    assert httpx.post(url, json=confirm, headers=OTHER_DISTRICT).status_code == 404
    assert httpx.post(url, json=confirm, headers=OTHER_DIVISION).status_code == 404
    # A step that does not apply names the ones that do; it uses up no sheet number.
    wrong = httpx.post(url, json={"action": "record_correction", "findings": "x"}, headers=OWNER)
    assert wrong.status_code == 409 and wrong.json()["allowed"] == ["verify_normal", "confirm_violation"]
    incomplete = httpx.post(url, json={k: v for k, v in confirm.items() if k != "violation_type"}, headers=OWNER)
    assert incomplete.status_code == 422 and "violation_type" in incomplete.text
    unknown_type = httpx.post(url, json=confirm | {"violation_type": "乱花钱"}, headers=OWNER)
    assert unknown_type.status_code == 422 and unknown_type.json()["errors"][0]["field"] == "body.violation_type"
    stale = httpx.post(url, json=confirm | {"expected_version": 0}, headers=OWNER)
    assert stale.status_code == 409 and stale.json()["errors"][0]["field"] == "expected_version"

    first = httpx.post(url, json=confirm, headers=OWNER)
    assert first.status_code == 201, first.text
    red = first.json()
    assert (red["level"], red["status"]) == ("red", "open")
    assert red["sheet"]["result"] == "违规" and red["sheet"]["handler"] == "农业处-王科长"
    assert red["allowed_actions"] == ["record_correction", "take_measure"]
    # The district concerned records the correction; only the supervision bureau may reopen.
    second = httpx.post(url, json={"action": "record_correction", "findings": "已改为转账发放",
                                   "returned_amount": "2000.00"}, headers=DISTRICT)
    assert second.status_code == 201 and (second.json()["level"], second.json()["status"]) == ("red", "green")
    assert httpx.post(url, json={"action": "reopen", "findings": "复查"}, headers=OWNER).status_code == 403
    reopened = httpx.post(url, json={"action": "reopen", "findings": "复查发现仍有现金发放"}, headers=SUPERVISION)
    assert reopened.status_code == 201 and reopened.json()["status"] == "open"
    numbers = [r["sheet"]["number"] for r in (red, second.json(), reopened.json())]
    year, serial = numbers[0].split("-")[1], int(numbers[0].split("-")[2])
    assert numbers == [f"CLD-{year}-{serial + i:06d}" for i in range(3)], "numbered without gaps"

    detail = httpx.get(f"{alerting}/alerts/{alert_id}", headers=OWNER).json()
    assert [h["payload"].get("action") for h in detail["history"]] == [
        None, "confirm_violation", "record_correction", "reopen"]
    assert all(h["working_days"] == 0 for h in detail["history"]), "all on one day"
    assert detail["allowed_actions"] == ["record_correction", "take_measure"]
    assert detail["waiting_for"].startswith("correction")

    export = httpx.get(f"{alerting}/dispositions/export", headers=OWNER.exporting("/dispositions/export"))
    assert export.status_code == 200
    book = CalamineWorkbook.from_filelike(io.BytesIO(export.content))
    rows = book.get_sheet_by_name("处理单").to_python()
    assert rows[0][:4] == ["处理单编号", "预警编号", "规则编号", "处理环节"]
    mine = {r[0]: r for r in rows[1:] if r[1] == alert_id}
    assert set(mine) == set(numbers) and mine[numbers[0]][8] == "其他" and mine[numbers[1]][12] == "2000.00"
    # The sheets newest first, a page at a time; none for a district the alert is not about.
    sheets = every(httpx.get, f"{alerting}/dispositions", {"alert_id": alert_id, "limit": 2}, headers=OWNER)
    assert [s["number"] for s in sheets] == numbers[::-1]
    assert every(httpx.get, f"{alerting}/dispositions", {"alert_id": alert_id}, headers=OTHER_DISTRICT) == []

    # Every step was pushed to the district concerned, and to no other district.
    pushed = stream_events(f"{alerting}/alerts/stream", DISTRICT | {"Last-Event-ID": "0-0"}, 3)
    steps = [e.get("action") for e in pushed if e.get("alert_id") == alert_id]
    assert steps == [None, "confirm_violation", "record_correction", "reopen"]
    elsewhere = stream_events(f"{alerting}/alerts/stream", OTHER_DISTRICT | {"Last-Event-ID": "0-0"}, 2)
    assert alert_id not in {e.get("alert_id") for e in elsewhere}


def test_window_rules_look_back_over_the_payees_month_and_update_one_alert(stack):
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    tag = uuid4().hex[:8]
    payee_account = f"6222{uuid4().int % 10**12:012d}"
    with stack.client() as c:
        indicator = c.post("/indicators", json=indicator_body("100000.00"), headers=admin).json()["id"]

        def cash(n: int, day: int) -> dict:
            return payment_body(f"{tag}-{n}", indicator, "1800.00", settlement_method="cash",
                                payee_account=payee_account, purpose=f"务工补助{n}",
                                paid_at=f"2026-03-{day:02d}T10:00:00+08:00")
        # 1,800.00 three times in March is 5,400.00: over the monthly 5,000.00 at the third; April starts afresh.
        for n, day in enumerate((2, 10, 20)):
            c.post("/payments/batch", headers=treasury, json={"payments": [cash(n, day)]}).raise_for_status()
        c.post("/payments/batch", headers=treasury, json={"payments": [
            payment_body(f"{tag}-apr", indicator, "1800.00", settlement_method="cash", payee_account=payee_account,
                         paid_at="2026-04-01T10:00:00+08:00")]}).raise_for_status()

        def monthly():
            items = c.get("/alerts", params={"rule": "spending.cash_monthly_total", "limit": 1000},
                          headers=admin).json()["items"]
            return [a for a in items if a["explanation"]["values"]["payment.payee_name"]
                    and a["subject"]["id"] == payee_account]
        found = poll(monthly)
        assert [a["period"] for a in found] == ["2026-03"] and found[0]["explanation"]["values"]["window.total"] \
            == "5400.00"
        c.post("/payments/batch", headers=treasury, json={"payments": [cash(3, 25)]}).raise_for_status()
        again = poll(lambda: (a := monthly()) and a[0]["occurrences"] == 2 and a)
        assert again and len(again) == 1 and again[0]["explanation"]["values"]["window.total"] == "7200.00"


def test_alerts_are_filtered_by_date_and_paged_by_cursor(stack):
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    with stack.client() as c:
        alert_id = cash_alert(c, admin, treasury)
        mine = c.get(f"/alerts/{alert_id}", headers=admin).json()
        window = {"raised_from": mine["raised_at"], "raised_to": "2999-01-01T00:00:00+08:00"}
        seen, cursor = [], None
        while True:
            page = c.get("/alerts", params={**window, "limit": 2, **({"cursor": cursor} if cursor else {})},
                         headers=admin).json()
            seen += [a["id"] for a in page["items"]]
            if not (cursor := page["next_cursor"]):
                break
        assert alert_id in seen and len(seen) == len(set(seen))
        everything = c.get("/alerts", params={**window, "limit": 1000}, headers=admin).json()["items"]
        assert [a["id"] for a in everything] == seen, "pages add up to the whole list, newest first"
        before = c.get("/alerts", params={"raised_to": mine["raised_at"], "limit": 1000}, headers=admin).json()
        assert alert_id not in {a["id"] for a in before["items"]}
        assert c.get("/alerts", params={"raised_from": "2026-03-01T00:00:00"}, headers=admin).status_code == 422
