"""District statistics (第七条(二), 第二十三条) and the platform's use (第十条(四)) end to end, through the gateway:
an indicator of 长春高新技术产业开发区 (no other test uses it) received and allocated, a cash payment that raises a
yellow light, the district confirming the violation and the division circulating it, goals in time and a late
execution report; then the month's figures within each caller's scope, the workbooks, and the treasury's circular."""

import io
from uuid import uuid4

import pytest
from python_calamine import CalamineWorkbook

from backbone.clock import clock
from tests.e2e.conftest import indicator_body, payment_body
from tests.e2e.people import signed_in
from tests.e2e.test_performance import GOALS
from tests.support.waiting import poll

pytestmark = pytest.mark.e2e
ZONE = "220173"  # 长春高新技术产业开发区
MONTH = clock().today().strftime("%Y-%m")
YEAR = clock().today().year
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CONFIRM = {"action": "confirm_violation", "method": "调阅材料", "findings": "现金发放补助，未通过一卡通",
           "violation_type": "其他", "rectification": "改为转账发放"}
CIRCULATE = {"action": "take_measure", "findings": "现金发放屡查屡犯", "measures": ["通报"]}


def row_of(c, headers, org_unit: str = ZONE) -> dict | None:
    r = c.get("/districts/statistics", params={"month": MONTH}, headers=headers)
    assert r.status_code == 200, r.text
    return next((d for d in r.json()["districts"] if d["org_unit"] == org_unit), None)


def sheet_text(content: bytes) -> str:
    book = CalamineWorkbook.from_filelike(io.BytesIO(content))
    return "\n".join(str(cell) for name in book.sheet_names for row in book.get_sheet_by_name(name).to_python()
                     for cell in row)


@pytest.fixture(scope="module")
def month_of_the_zone(stack):
    """The zone's month as a bureau would feed it; who took part."""
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    owner = signed_in("农业处-统计-王", ["division"], division="agriculture")
    zone = signed_in("高新区财政局-统计-周", ["district"], org_unit=ZONE)
    with stack.client() as c:
        # Received and allocated the same day: 0 working days.
        indicator = c.post("/indicators", json=indicator_body("100000.00", org_unit=ZONE), headers=admin).json()["id"]
        allocated = c.post(f"/indicators/{indicator}/allocations", headers=admin, json={"allocations": [
            {"amount": "40000.00", "org_unit": ZONE, "owner_division": "agriculture"}]})
        assert allocated.status_code == 201, allocated.text
        # A cash payment above the limit: a yellow light (ZC-003) for the zone.
        pid = f"{uuid4().hex[:8]}-zone-cash"
        c.post("/payments/batch", headers=treasury, json={"payments": [
            payment_body(pid, indicator, "2000.00", settlement_method="cash", org_unit=ZONE)]}).raise_for_status()
        alert_id = poll(lambda: next((a["id"] for a in c.get("/alerts", params={
            "rule": "spending.cash_above_limit", "limit": 1000}, headers=admin).json()["items"]
            if a["subject"]["id"] == pid), None))
        assert alert_id, "no yellow light for the cash payment"
        url = f"/alerts/{alert_id}/dispositions"
        confirmed = c.post(url, json=CONFIRM, headers=zone)
        assert confirmed.status_code == 201, confirmed.text
        # A circular against the zone; the same measure again is another sheet, not another circular.
        # The first sheet also records a talk with the zone's leaders (约谈); the circular is opened once.
        assert c.post(url, json={**CIRCULATE, "measures": ["通报", "约谈"]}, headers=owner).status_code == 201
        assert c.post(url, json=CIRCULATE, headers=owner).status_code == 201
        # Goals set at once (in time); the mid-year execution report months after its period (late).
        goal = poll(lambda: (lambda r: r.json() if r.status_code == 201 else None)(
            c.post("/performance-goals", json={"indicator_id": indicator, **GOALS}, headers=owner)))
        assert goal, "performance never learned the indicator"
        report = c.post(f"/performance-goals/{goal['id']}/progress", headers=owner, json={
            "period": f"{YEAR}-H1", "explanation": "施工推迟", "measures": "加快进度", "actuals": [
                {"name": "危房改造户数", "actual": "200"}, {"name": "户均补助", "actual": "24000"},
                {"name": "住房安全保障", "actual": "achieved"}, {"name": "群众满意度", "actual": "95"}]})
        assert report.status_code == 201, report.text
    return {"admin": admin, "owner": owner, "zone": zone, "alert_id": alert_id}


def test_the_zones_month_counts_its_allocation_payment_filings_alerts_and_circular(stack, month_of_the_zone):
    zone = month_of_the_zone["zone"]
    with stack.client() as c:
        row = poll(lambda: (lambda r: r if r and r["filings"]["late"] == 1 and r["circulars"] == 1
                            and any(a["level"] == "red" for a in r["alerts"]) else None)(row_of(c, zone)))
        assert row, row_of(c, zone)
    assert row["org_unit_name"] == "长春高新技术产业开发区"
    allocation = row["allocation"]
    assert (allocation["received"], allocation["allocated"], allocation["allocated_share"]) == (
        "140000.00", "40000.00", "0.2857")
    assert (allocation["allocations"], allocation["average_working_days"], allocation["max_working_days"]) == (
        1, "0.00", 0)
    payment = row["payment"]
    assert (payment["paid"], payment["payment_progress"], payment["behind"]) == ("2000.00", "0.0143", True)
    assert row["filings"] == {"on_time": 1, "late": 1}
    assert {(a["level"], a["status"]) for a in row["alerts"]} >= {("red", "open")}
    assert row["alerts_raised"] >= 1 and row["circulars"] == 1 and row["talks"] == 1
    steps = {s["level"]: s for s in row["step_times"]}
    # The yellow light waited from its raising to its confirmation, the red one since: no working day yet.
    assert steps["yellow"]["waits"] >= 1 and steps["red"]["waits"] >= 1
    assert row["overdue_steps"] == 0 and steps["red"]["overdue"] == 0


def test_a_district_sees_itself_only_and_a_division_only_its_funds(stack, month_of_the_zone):
    nanguan = signed_in("南关区财政局-统计-吴", ["district"], org_unit="220102")
    education = signed_in("教科文处-统计-郑", ["division"], division="education")
    with stack.client() as c:
        mine = c.get("/districts/statistics", params={"month": MONTH}, headers=nanguan).json()
        assert [d["org_unit"] for d in mine["districts"]] == ["220102"] and mine["divisions"] == []
        assert row_of(c, month_of_the_zone["zone"], "220102") is None
        theirs = row_of(c, education)
        assert theirs is not None, "a division follows every district"
        assert (theirs["payment"]["paid"], theirs["circulars"], theirs["alerts"]) == ("0.00", 0, [])
        # The city's roles see every district and development zone.
        every = c.get("/districts/statistics", params={"month": MONTH}, headers=month_of_the_zone["admin"]).json()
        assert len(every["districts"]) == 11
        assert poll(lambda: row_of(c, month_of_the_zone["admin"])["circulars"] == 1)


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "1999-12", f"{YEAR + 1}-01", ""])
def test_a_bad_month_is_a_422_naming_it(stack, month_of_the_zone, month):
    with stack.client() as c:
        for path in ("/districts/statistics", "/usage", "/usage/circular"):
            r = c.get(path, params={"month": month}, headers=month_of_the_zone["admin"])
            assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["query.month"], r.text
        missing = c.get("/districts/statistics", headers=month_of_the_zone["admin"])
        assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "query.month"


def test_the_statistics_download_as_a_workbook_within_scope(stack, month_of_the_zone):
    with stack.client() as c:
        r = c.get("/districts/statistics/workbook", params={"month": MONTH}, headers=month_of_the_zone["zone"])
    assert r.status_code == 200 and r.headers["content-type"] == XLSX
    text = sheet_text(r.content)
    assert "长春高新技术产业开发区" in text and "南关区" not in text and "区（开发区）财政扶贫资金动态监控情况统计" in text


def test_the_platforms_use_per_unit_and_the_treasurys_circular(stack, month_of_the_zone):
    treasury = signed_in("国库处-统计-冯", ["treasury"], division="treasury")
    info = signed_in("信息中心-统计-陈", ["info_center"], division="info_center")
    with stack.client() as c:
        # The zone's person signed in once and confirmed one violation (the audit trail is written in batches).
        def zone_row():
            r = c.get("/usage", params={"month": MONTH}, headers=treasury)
            assert r.status_code == 200, r.text
            found = [u for u in r.json()["units"] if u["org_unit"] == ZONE]
            return found if found and found[0]["actions"] >= 1 else None
        [row] = poll(zone_row)
        assert (row["org_unit_name"], row["division"], row["people"], row["active_people"], row["sign_ins"],
                row["actions"], row["overdue_items"]) == ("长春高新技术产业开发区", None, 1, 1, 1, 1, 0)
        agriculture = [u for u in c.get("/usage", params={"month": MONTH}, headers=info).json()["units"]
                       if (u["org_unit"], u["division"]) == ("220100", "agriculture")]
        assert agriculture and agriculture[0]["actions"] >= 3, "the division's goals, report and measures"
        assert c.get("/usage", params={"month": MONTH}, headers=month_of_the_zone["zone"]).status_code == 403

        circular = c.get("/usage/circular", params={"month": MONTH}, headers=treasury)
        assert circular.status_code == 200, circular.text
        body = circular.json()
        year, month = MONTH.split("-")
        assert body["title"] == f"关于{year}年{int(month)}月财政扶贫资金动态监控平台使用情况的通报"
        assert "局脱贫办" in body["recipients"] and ZONE in [r["org_unit"] for r in body["rows"]]
        book = c.get("/usage/circular/workbook", params={"month": MONTH}, headers=treasury)
        assert book.status_code == 200 and book.headers["content-type"] == XLSX
        assert body["title"] in sheet_text(book.content) and "长春高新技术产业开发区" in sheet_text(book.content)
        assert c.get("/usage/circular", params={"month": MONTH}, headers=month_of_the_zone["owner"]).status_code == 403
