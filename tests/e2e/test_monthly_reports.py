"""The monthly report (月报, 第二十四条) end to end: a division's draft of its month and its submission, the city
report the treasury consolidates (a division missing is named), the supervision bureau's sign-off of the suspicious
items, the poverty office's co-signature (never by the preparer, 第二十七条), the exchange to the simulator and its
receipt, the printable workbook; a report the province returns is revised and goes again as a new version.

Each test has a month of its own in a fiscal year no other module uses (2017), so that only this module's
indicators decide which divisions owe a report."""

import asyncio
import io
import os
from uuid import uuid4

import httpx
import pytest
from python_calamine import CalamineWorkbook

from backbone.clock import clock
from tests.e2e import clocks, db
from tests.e2e.conftest import indicator_body, payment_body
from tests.e2e.people import signed_in
from tests.support.waiting import poll

pytestmark = pytest.mark.e2e
YEAR = 2017
REPORTS = "/monthly-reports"


@pytest.fixture
def province(stack):
    """The simulator, answering again whatever a test told it."""
    with httpx.Client(base_url=stack.province, timeout=10) as client:
        yield client
        client.post("/faults", json={"down": False, "delay_ms": 0, "return_next": False}).raise_for_status()


@pytest.fixture(scope="module")
def people(stack):
    return {"agriculture": signed_in("mr-agriculture", ["division"], division="agriculture"),
            "education": signed_in("mr-education", ["division"], division="education"),
            # The treasury's preparer may hold the poverty office's role too: still not its co-signer.
            "treasury": signed_in("mr-treasury", ["treasury", "poverty_office"], division="treasury"),
            "supervision": signed_in("mr-supervision", ["supervision"], division="supervision"),
            "poverty": signed_in("mr-poverty", ["poverty_office"], division="poverty_office"),
            "district": signed_in("mr-district", ["district"], org_unit="220102")}


@pytest.fixture(scope="module")
def funds(stack, people):
    """Two divisions own funds of the year; agriculture's indicator in 南关区 paid 300.00 in November."""
    admin = stack.admin_headers()
    with stack.client() as c:
        made = {}
        for division, org_unit in (("agriculture", "220102"), ("education", "220103")):
            r = c.post("/indicators", headers=admin, json=indicator_body(
                "1000.00", fiscal_year=YEAR, owner_division=division, org_unit=org_unit))
            assert r.status_code == 201, r.text
            made[division] = r.json()["id"]
        payment = payment_body(f"mr-{uuid4().hex[:8]}", made["agriculture"], "300.00",
                               paid_at=f"{YEAR}-11-15T10:00:00+08:00")
        r = c.post("/payments/batch", headers=stack.treasury_headers(), json={"payments": [payment]})
        assert r.status_code < 300, r.text
    database = os.environ["DATABASE_URL"]
    assert poll(lambda: db.rows(database, "SELECT 1 FROM sync.movements WHERE indicator_id = $1 AND kind = 'paid'",
                                made["agriculture"])), "sync never learned of the payment"
    assert poll(lambda: len(db.rows(database, "SELECT 1 FROM sync.indicators WHERE fiscal_year = $1", YEAR)) == 2)
    return made


def ok(r: httpx.Response, status: int = 200) -> dict:
    assert r.status_code == status, r.text
    return r.json()


def fault_fields(r: httpx.Response) -> set[str]:
    return {e["field"].split(".")[-1] for e in r.json().get("errors", [])}


def received(province) -> dict[str, dict]:
    return {item["message_id"]: item for item in province.get("/received").json()["items"]}


def test_a_month_flows_from_a_divisions_draft_to_the_provinces_receipt(stack, people, funds, province):
    month = f"{YEAR}-11"
    with stack.client() as c:
        # Bad input is named; a month that has not ended is not reported.
        for body, field in (({"month": f"{YEAR}-13", "kind": "division"}, "month"),
                            ({"month": month, "kind": "weekly"}, "kind"),
                            ({"month": "2099-01", "kind": "division"}, "month"),
                            ({"month": month, "kind": "division", "colour": "red"}, "colour")):
            r = c.post(REPORTS, json=body, headers=people["agriculture"])
            assert r.status_code == 422 and field in fault_fields(r), r.text
        # 一: the division's draft, as of the month's last instant: its fund in 南关区 paid 300.00.
        draft = ok(c.post(REPORTS, json={"month": month, "kind": "division"}, headers=people["agriculture"]), 201)
        assert (draft["status"], draft["division"], draft["version"]) == ("draft", "agriculture", 1)
        assert draft["figures"]["totals"]["paid"] == "300.00"
        assert [d["org_unit"] for d in draft["figures"]["districts"]] == ["220102"]
        assert draft["figures"]["as_of"] == f"{YEAR}-12-01T00:00:00+08:00"
        # The same request again makes nothing new.
        again = ok(c.post(REPORTS, json={"month": month, "kind": "division"}, headers=people["agriculture"]))
        assert again["report_id"] == draft["report_id"]
        rid = draft["report_id"]
        mine = ok(c.get(REPORTS, params={"month": month}, headers=people["agriculture"]))["items"]
        assert [r["report_id"] for r in mine] == [rid]
        # Another division does not see it; a district is not admitted.
        assert c.get(f"{REPORTS}/{rid}", headers=people["education"]).status_code == 404
        assert ok(c.get(REPORTS, params={"month": month}, headers=people["education"]))["items"] == []
        assert c.get(REPORTS, headers=people["district"]).status_code == 403
        # The analysis comes before the submission; submitted once.
        r = c.post(f"{REPORTS}/{rid}/submission", headers=people["agriculture"])
        assert r.status_code == 422 and "analysis" in fault_fields(r)
        assert c.post(f"{REPORTS}/{rid}/analysis", json={"analysis": ""}, headers=people["agriculture"]).status_code == 422
        ok(c.post(f"{REPORTS}/{rid}/analysis", json={"analysis": "支付进度偏慢，建议督促南关区"}, headers=people["agriculture"]))
        assert ok(c.post(f"{REPORTS}/{rid}/submission", headers=people["agriculture"]))["status"] == "submitted"
        assert c.post(f"{REPORTS}/{rid}/submission", headers=people["agriculture"]).status_code == 409

        # 二: the city report names the division still missing, unless the treasury records why it goes without.
        city = {"month": month, "kind": "city"}
        r = c.post(REPORTS, json=city, headers=people["treasury"])
        assert r.status_code == 409 and r.json()["missing"] == ["education"], r.text
        assert c.post(REPORTS, json=city, headers=people["agriculture"]).status_code == 403
        without = city | {"without": [{"division": "education", "reason": "本月无扶贫资金支出"}]}
        report = ok(c.post(REPORTS, json=without, headers=people["treasury"]), 201)
        cid = report["report_id"]
        assert report["status"] == "consolidated"
        assert [(p["division"], p["report_id"], p["without_reason"]) for p in report["divisions"]] == [
            ("agriculture", rid, None), ("education", None, "本月无扶贫资金支出")]
        assert ok(c.post(REPORTS, json=without, headers=people["treasury"]))["report_id"] == cid
        taken = ok(c.get(f"{REPORTS}/{rid}", headers=people["agriculture"]))
        assert (taken["status"], taken["consolidated_into"]) == ("consolidated", cid)

        # 三 before 第二十七条: no co-signature before the supervision bureau's sign-off.
        cosign = {"decision": "approve", "opinion": "同意上报"}
        assert c.post(f"{REPORTS}/{cid}/cosignature", json=cosign, headers=people["poverty"]).status_code == 409
        r = c.post(f"{REPORTS}/{cid}/supervision-review", json={"decision": "return"}, headers=people["supervision"])
        assert r.status_code == 422 and "opinion" in fault_fields(r)
        reviewed = ok(c.post(f"{REPORTS}/{cid}/supervision-review", json={"decision": "approve", "opinion": "疑点已核实"},
                             headers=people["supervision"]))
        assert reviewed["status"] == "supervision_reviewed"
        # Whoever prepared it cannot co-sign it, though they hold the poverty office's role.
        r = c.post(f"{REPORTS}/{cid}/cosignature", json=cosign, headers=people["treasury"])
        assert r.status_code == 403 and "separation of duties" in r.json()["detail"], r.text
        sent = ok(c.post(f"{REPORTS}/{cid}/cosignature", json=cosign, headers=people["poverty"]))
        assert sent["status"] == "sent" and sent["cosigner"] == "mr-poverty" and sent["message_id"]
        assert c.post(f"{REPORTS}/{cid}/cosignature", json=cosign, headers=people["poverty"]).status_code == 409

        # The province's receipt moves it to acknowledged; the province holds it once.
        done = poll(lambda: (x := ok(c.get(f"{REPORTS}/{cid}", headers=people["treasury"])))["status"]
                    == "acknowledged" and x)
        assert done, "the province never acknowledged the report"
        assert [(h["step"], h["actor"]) for h in done["history"]] == [
            ("consolidate", "mr-treasury"), ("approve_suspicious", "mr-supervision"), ("cosign", "mr-poverty"),
            ("send", "system:sync"), ("acknowledge", "province")]
        held = received(province)[sent["message_id"]]
        assert (held["kind"], held["count"], held["payload"]["report_id"]) == ("monthly_report", 1, cid)
        assert held["payload"]["figures"]["totals"]["paid"] == "300.00"

        # The printable workbook: title, 填报单位, 填报人, 日期 and the signature lines.
        r = c.get(f"{REPORTS}/{cid}/workbook", headers=people["treasury"])
        assert r.status_code == 200, r.text
        book = CalamineWorkbook.from_filelike(io.BytesIO(r.content))
        cells = [str(v) for row in book.get_sheet_by_name("月报").to_python() for v in row if v != ""]
        assert cells[0] == f"长春市财政扶贫资金动态监控情况月报（{YEAR}年11月）"
        assert {"填报单位：", "填报人：", "日期：", "mr-treasury"} <= set(cells)
        assert any(v.startswith("局脱贫办会签（签字）") for v in cells)


def test_a_returned_report_is_revised_and_goes_again_as_a_new_version(stack, people, funds, province):
    month = f"{YEAR}-10"
    without = {"month": month, "kind": "city", "without": [
        {"division": "agriculture", "reason": "十月无支出"}, {"division": "education", "reason": "十月无支出"}]}
    review = {"decision": "approve", "opinion": "疑点已核实"}
    cosign = {"decision": "approve", "opinion": "同意上报"}
    with stack.client() as c:
        first = ok(c.post(REPORTS, json=without, headers=people["treasury"]), 201)
        fid = first["report_id"]
        ok(c.post(f"{REPORTS}/{fid}/supervision-review", json=review, headers=people["supervision"]))
        province.post("/faults", json={"return_next": True}).raise_for_status()
        sent = ok(c.post(f"{REPORTS}/{fid}/cosignature", json=cosign, headers=people["poverty"]))
        returned = poll(lambda: (x := ok(c.get(f"{REPORTS}/{fid}", headers=people["treasury"])))["status"]
                        == "returned" and x)
        assert returned and "退回" in returned["province_reason"]
        # A sent report never changes: the revision is a new version naming the one it corrects.
        assert c.post(f"{REPORTS}/{fid}/analysis", json={"analysis": "改"}, headers=people["treasury"]).status_code == 409
        second = ok(c.post(f"{REPORTS}/{fid}/revision", json={"analysis": "按省厅意见修改"},
                           headers=people["treasury"]), 201)
        assert (second["version"], second["corrects"], second["status"]) == (2, fid, "consolidated")
        assert ok(c.post(f"{REPORTS}/{fid}/revision", json={}, headers=people["treasury"]))["report_id"] == \
            second["report_id"]
        sid = second["report_id"]
        ok(c.post(f"{REPORTS}/{sid}/supervision-review", json=review, headers=people["supervision"]))
        resent = ok(c.post(f"{REPORTS}/{sid}/cosignature", json=cosign, headers=people["poverty"]))
        assert poll(lambda: ok(c.get(f"{REPORTS}/{sid}", headers=people["treasury"]))["status"] == "acknowledged")
        assert ok(c.get(f"{REPORTS}/{fid}", headers=people["treasury"]))["status"] == "returned"
        held = received(province)
        assert resent["message_id"] != sent["message_id"]
        assert held[sent["message_id"]]["count"] == 1 and held[resent["message_id"]]["count"] == 1
        assert held[resent["message_id"]]["payload"]["corrects"] == fid
        listed = ok(c.get(REPORTS, params={"month": month, "kind": "city"}, headers=people["poverty"]))["items"]
        assert [(r["version"], r["status"]) for r in listed] == [(2, "acknowledged"), (1, "returned")]


DIVISION_LATE, CITY_LATE = "workflow.division_report_missing", "workflow.city_report_not_sent"


def watches(database: str, rule_id: str, subject_id: str) -> list[dict]:
    return db.rows(database, "SELECT state, counts_from FROM alerting.watches WHERE rule_id = $1 AND subject_id = $2",
                   rule_id, subject_id)


def test_the_reports_steps_reach_the_deadline_clocks_and_a_missing_report_rings_then_turns_yellow(
        stack, people, funds, province):
    database = os.environ["DATABASE_URL"]
    month = f"{YEAR}-09"
    with stack.client() as c:
        # A division's submission and the city report's sending reach alerting's clocks (LC-005, LC-006): the
        # clocks of this old month never started, so they are settled ahead, as met.
        rid = ok(c.post(REPORTS, json={"month": month, "kind": "division", "analysis": "无"},
                        headers=people["agriculture"]), 201)["report_id"]
        ok(c.post(f"{REPORTS}/{rid}/submission", headers=people["agriculture"]))
        city = ok(c.post(REPORTS, headers=people["treasury"], json={
            "month": month, "kind": "city", "without": [{"division": "education", "reason": "九月无支出"}]}), 201)
        ok(c.post(f"{REPORTS}/{city['report_id']}/supervision-review", json={"decision": "approve"},
                  headers=people["supervision"]))
        ok(c.post(f"{REPORTS}/{city['report_id']}/cosignature", json={"decision": "approve"},
                  headers=people["poverty"]))
        # (Its receipt awaited, so that no other test's `return_next` meets this message.)
        assert poll(lambda: ok(c.get(f"{REPORTS}/{city['report_id']}", headers=people["treasury"]))["status"]
                    == "acknowledged")
        assert poll(lambda: watches(database, DIVISION_LATE, "agriculture") and [
            w["state"] for w in watches(database, DIVISION_LATE, "agriculture")
            if w["counts_from"].isoformat() == f"{YEAR}-09-30"] == ["met"])
        assert poll(lambda: [w["state"] for w in watches(database, CITY_LATE, month)] == ["met"])

        # A division that owns funds of this year owes a report for each month still ahead: its bell rings
        # before the deadline, and the light is yellow once the time has run out.
        this_year = clock().today().year
        r = c.post("/indicators", headers=stack.admin_headers(), json=indicator_body(
            "1000.00", fiscal_year=this_year, owner_division="economic", org_unit="220104"))
        assert r.status_code == 201, r.text
        # (Waiting clocks: another test's report of an old month may have left a met one for this division.)
        assert poll(lambda: [w for w in watches(database, DIVISION_LATE, "economic") if w["state"] == "waiting"])
        admin = stack.admin_headers()

        def economic() -> list[dict]:
            items = c.get("/alerts", params={"rule": DIVISION_LATE, "limit": 1000}, headers=admin).json()["items"]
            return [a for a in items if a["subject"]["id"] == "economic"]

        asyncio.run(clocks.move(database, "bell_at", "economic", DIVISION_LATE, "waiting"))
        rang = poll(lambda: (found := economic()) and all(a["level"] == "yellow_bell" for a in found) and found)
        assert rang and rang[0]["owner_division"] == "economic" and rang[0]["org_unit"] is None
        assert rang[0]["explanation"]["summary"].startswith("将于")
        asyncio.run(clocks.move(database, "due_at", "economic", DIVISION_LATE, "ringing"))
        assert poll(lambda: (found := economic()) and all(a["level"] == "yellow" for a in found))
