"""Performance goals end to end: filing, the budget division's review, deviations, scope, and the alerts."""

import asyncio
import io

import httpx
import pytest
from python_calamine import CalamineWorkbook

from backbone.clock import clock
from tests.e2e import clocks
from tests.e2e.conftest import indicator_body, payment_body
from tests.e2e.pages import every
from tests.e2e.people import forwarded
from tests.e2e.test_alert_handling import OWNER
from tests.support.waiting import poll

pytestmark = pytest.mark.e2e
GOALS_MISSING, REPORT_MISSING = "performance.goals_missing", "performance.report_missing"
BUDGET = forwarded("预算处-冯", ["budget"])
NANGUAN = forwarded("南关区财政局-陈", ["district"], org_unit="220102")
KUANCHENG = forwarded("宽城区财政局-褚", ["district"], org_unit="220103")
YEAR = clock().today().year

GOALS = {"goal": "完成200户危房改造，群众满意度不低于90%", "indicators": [
    {"level1": "产出指标", "level2": "数量指标", "name": "危房改造户数", "comparison": "gte", "target": "200", "unit": "户",
     "weight": "40"},
    {"level1": "产出指标", "level2": "成本指标", "name": "户均补助", "comparison": "lte", "target": "25000", "unit": "元",
     "weight": "20"},
    {"level1": "效益指标", "level2": "社会效益指标", "name": "住房安全保障", "comparison": "qualitative",
     "target_text": "全部达到安全标准", "weight": "20"},
    {"level1": "满意度指标", "level2": "服务对象满意度指标", "name": "群众满意度", "comparison": "range",
     "target_low": "90", "target_high": "100", "unit": "%", "weight": "20"}]}


def known(stack, admin, indicator: str) -> bool:
    """Performance has learned the indicator from the ledger's events."""
    # Half the weights: refused either way, but only a known indicator gets as far as the weights.
    r = httpx.post(f"{stack.processes.url('performance')}/api/v1/performance-goals", headers=OWNER,
                   json={"indicator_id": indicator, "goal": "probe", "indicators": [
                       GOALS["indicators"][0] | {"weight": "50"}]})
    return "the weights add up to 50" in r.text


def test_goals_are_filed_returned_resubmitted_and_accepted_with_every_step_an_event(stack):
    performance = f"{stack.processes.url('performance')}/api/v1"
    admin = stack.admin_headers()
    with stack.client() as c:
        indicator = c.post("/indicators", json=indicator_body("5000000.00"), headers=admin).json()["id"]
    assert poll(lambda: known(stack, admin, indicator))
    bad = httpx.post(f"{performance}/performance-goals", headers=OWNER, json={
        "indicator_id": indicator, **GOALS, "indicators": GOALS["indicators"][:2]})
    assert bad.status_code == 422 and "the weights add up to 60, not 100" in bad.text
    # Another district is refused once performance holds the indicator (before that, the ledger does not show it
    # to that district, and the goal names an unknown indicator).
    assert poll(lambda: httpx.post(f"{performance}/performance-goals", headers=KUANCHENG,
                                   json={"indicator_id": indicator, **GOALS}).status_code == 403)
    filed = httpx.post(f"{performance}/performance-goals", headers=NANGUAN, json={"indicator_id": indicator, **GOALS})
    assert filed.status_code == 201, filed.text
    goal = filed.json()
    assert (goal["status"], goal["org_unit"], goal["owner_division"]) == ("filed", "220102", "agriculture")
    url = f"{performance}/performance-goals/{goal['id']}"
    assert httpx.get(url, headers=KUANCHENG).status_code == 404, "another district does not see it"
    assert httpx.post(f"{url}/reviews", headers=OWNER, json={"decision": "accepted", "reasons": "x"}).status_code == 403
    no_date = httpx.post(f"{url}/reviews", headers=BUDGET, json={"decision": "returned", "reasons": "指标不够细化"})
    assert no_date.status_code == 422 and no_date.json()["errors"][0]["field"] == "rectify_by"
    returned = httpx.post(f"{url}/reviews", headers=BUDGET, json={
        "decision": "returned", "reasons": "满意度目标偏低，请细化", "rectify_by": f"{YEAR}-12-15"})
    assert returned.status_code == 200 and returned.json()["status"] == "returned"
    # A returned filing cannot be accepted until it is filed again.
    early = httpx.post(f"{url}/reviews", headers=BUDGET, json={"decision": "accepted", "reasons": "同意"})
    assert early.status_code == 409
    again = httpx.post(f"{performance}/performance-goals", headers=OWNER, json={"indicator_id": indicator, **GOALS})
    assert again.status_code == 201 and again.json()["status"] == "filed"
    accepted = httpx.post(f"{url}/reviews", headers=BUDGET, json={"decision": "accepted", "reasons": "同意"})
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert httpx.post(f"{performance}/performance-goals", headers=OWNER,
                      json={"indicator_id": indicator, **GOALS}).status_code == 409, "an accepted filing is final"
    steps = every(httpx.get, f"{url}/history", headers=OWNER)
    assert [(s["event_type"].split(".")[1], s["actor"]) for s in steps] == [
        ("GoalsSet", "南关区财政局-陈"), ("FilingReviewed", "预算处-冯"), ("GoalsSet", "农业处-王科长"),
        ("FilingReviewed", "预算处-冯")]
    assert steps[2]["payload"]["resubmission"] is True
    assert every(httpx.get, f"{url}/history", {"limit": 1}, headers=OWNER) == steps, "a step a page, in order"
    listed = every(httpx.get, f"{performance}/performance-goals", {"fiscal_year": YEAR}, headers=KUANCHENG)
    assert goal["id"] not in {g["id"] for g in listed}
    # A corrected owner (更正) takes the goal with the indicator: the new division sees it, the old one no more.
    education = forwarded("教科文处-卫", ["division"], division="education")
    with stack.client() as c:
        assert c.post(f"/indicators/{indicator}/corrections", headers=stack.admin_headers(), json={
            "changes": {"owner_division": "education"}, "reason": "主管处室录入错误"}).status_code == 200
    assert poll(lambda: httpx.get(url, headers=education).status_code == 200)
    assert httpx.get(url, headers=OWNER).status_code == 404


def test_an_execution_report_measures_deviations_and_a_severe_one_raises_a_yellow_light(stack):
    performance = f"{stack.processes.url('performance')}/api/v1"
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    with stack.client() as c:
        indicator = c.post("/indicators", json=indicator_body("1000.00"), headers=admin).json()["id"]
        c.post("/payments/batch", headers=treasury, json={"payments": [
            payment_body(f"{indicator}-p", indicator, "250.00")]}).raise_for_status()
    assert poll(lambda: known(stack, admin, indicator))
    goal = httpx.post(f"{performance}/performance-goals", headers=OWNER,
                      json={"indicator_id": indicator, **GOALS}).json()
    url = f"{performance}/performance-goals/{goal['id']}"
    assert poll(lambda: httpx.get(url, headers=OWNER).json()["money_progress"] == "0.2500"), "the payment counted"
    wrong = httpx.post(f"{url}/progress", headers=OWNER, json={"period": f"{YEAR}-H1", "actuals": [
        {"name": "不存在", "actual": "1"}, {"name": "危房改造户数", "actual": "很多"},
        {"name": "户均补助", "actual": "1"}, {"name": "户均补助", "actual": "2"}]})
    assert wrong.status_code == 422 and {e["field"] for e in wrong.json()["errors"]} == {
        "actuals[0].name", "actuals[1].actual", "actuals[3].name"}
    assert httpx.post(f"{url}/progress", headers=OWNER, json={"period": f"{YEAR - 1}-H1", "actuals": [
        {"name": "危房改造户数", "actual": "1"}]}).status_code == 422
    filed = {"period": f"{YEAR}-H1", "explanation": "施工季节推迟", "measures": "增加施工队伍", "actuals": [
        {"name": "危房改造户数", "actual": "120"}, {"name": "户均补助", "actual": "24000"},
        {"name": "住房安全保障", "actual": "partly"}, {"name": "群众满意度", "actual": "95"}]}
    report = httpx.post(f"{url}/progress", headers=OWNER, json=filed)
    assert report.status_code == 201, report.text
    # The same report again (a retry) files nothing new.
    again = httpx.post(f"{url}/progress", headers=OWNER, json=filed)
    assert again.status_code == 201 and again.headers.get("Idempotency-Replayed") == "true"
    steps = every(httpx.get, f"{url}/history", headers=OWNER)
    assert [s["event_type"] for s in steps].count("performance.ProgressReported") == 1
    h1 = report.json()["reports"][0]
    outcomes = {o["name"]: o for o in h1["outcomes"]}
    assert (outcomes["危房改造户数"]["deviation"], outcomes["危房改造户数"]["severe"]) == ("-0.4000", True)
    assert outcomes["户均补助"]["met"] and outcomes["群众满意度"]["met"]
    assert (h1["time_progress"], h1["money_progress"]) == (f"{0.4959:.4f}", "0.2500")

    alert = poll(lambda: clocks.alert_of(f"{stack.processes.url('alerting')}/api/v1", OWNER,
                                         "performance.severe_deviation", indicator))
    assert alert and alert["level"] == "yellow" and alert["explanation"]["values"]["report.severe_count"] == 1


def test_an_indicator_without_goals_rings_a_bell_and_then_turns_yellow_and_goals_clear_it(stack, servers):
    admin = stack.admin_headers()
    alerting = f"{stack.processes.url('alerting')}/api/v1"
    with stack.client() as c:
        late, on_time = (c.post("/indicators", json=indicator_body("800.00"), headers=admin).json()["id"]
                         for _ in range(2))

    def goals_alert(indicator: str):
        return clocks.alert_of(alerting, OWNER, GOALS_MISSING, indicator)
    assert poll(lambda: known(stack, admin, on_time))
    for indicator in (late, on_time):  # two working days before the due day, once alerting has started the clock
        assert poll(lambda: asyncio.run(clocks.move(servers.database_url, "bell_at", indicator, GOALS_MISSING)) == 1)
    assert poll(lambda: all(goals_alert(i) for i in (late, on_time)))
    assert {goals_alert(i)["level"] for i in (late, on_time)} == {"yellow_bell"}
    httpx.post(f"{stack.processes.url('performance')}/api/v1/performance-goals", headers=OWNER,
               json={"indicator_id": on_time, **GOALS}).raise_for_status()
    assert poll(lambda: goals_alert(on_time)["status"] == "cleared")
    asyncio.run(clocks.move(servers.database_url, "due_at", late, GOALS_MISSING))  # the five working days have passed
    assert poll(lambda: goals_alert(late)["level"] == "yellow")
    assert goals_alert(late)["status"] == "open" and goals_alert(on_time)["status"] == "cleared"


def test_a_missing_mid_year_report_rings_a_bell_at_its_deadline_and_the_late_report_clears_it(stack, servers):
    # An indicator of next year's budget issued early (提前下达): its mid-year point is still ahead.
    performance = f"{stack.processes.url('performance')}/api/v1"
    admin, year = stack.admin_headers(), YEAR + 1
    with stack.client() as c:
        indicator = c.post("/indicators", json=indicator_body("900.00", fiscal_year=year), headers=admin).json()["id"]
    assert poll(lambda: known(stack, admin, indicator))
    goal = httpx.post(f"{performance}/performance-goals", headers=OWNER, json={"indicator_id": indicator, **GOALS})
    assert goal.status_code == 201, goal.text

    def report_alert():
        return clocks.alert_of(f"{stack.processes.url('alerting')}/api/v1", OWNER, REPORT_MISSING, indicator)

    def clock():
        return asyncio.run(clocks.of(servers.database_url, indicator, REPORT_MISSING))
    assert poll(lambda: len(clock()) == 1), "one clock: 双监控 at 06-30"
    # A missing report has no bell ahead of its deadline: nothing rings while the time is not up.
    assert [(c["bell_at"], c["due_ahead"]) for c in clock()] == [(None, True)]
    assert report_alert() is None, "no bell before the time is up"
    asyncio.run(clocks.move(servers.database_url, "due_at", indicator, REPORT_MISSING))
    alert = poll(report_alert)
    assert alert and (alert["level"], alert["status"], alert["owner_division"]) == ("yellow_bell", "open", "agriculture")
    assert f"截至 {year}-06-30" in alert["explanation"]["summary"]
    filed = httpx.post(f"{performance}/performance-goals/{goal.json()['id']}/progress", headers=OWNER, json={
        "period": f"{year}-Q2", "actuals": [{"name": "危房改造户数", "actual": "200"}]})
    assert filed.status_code == 201, filed.text
    assert poll(lambda: report_alert()["status"] == "cleared"), "a report for the quarter ending 06-30 is the one due"


def test_the_year_end_self_evaluation_scores_every_indicator_and_the_city_sees_each_districts_status(stack):
    performance = f"{stack.processes.url('performance')}/api/v1"
    admin = stack.admin_headers()
    with stack.client() as c:
        indicator = c.post("/indicators", json=indicator_body("1000.00", org_unit="220112", owner_division="education"),
                           headers=admin).json()["id"]
    education = forwarded("教科文处-卫", ["division"], division="education")
    shuangyang = forwarded("双阳区财政局-蒋", ["district"], org_unit="220112")
    probe = {"indicator_id": indicator, "goal": "probe", "indicators": [GOALS["indicators"][0] | {"weight": "50"}]}
    assert poll(lambda: "the weights add up to 50" in httpx.post(f"{performance}/performance-goals", headers=education,
                                                                  json=probe).text)
    goal = httpx.post(f"{performance}/performance-goals", headers=education,
                      json={"indicator_id": indicator, **GOALS}).json()
    url = f"{performance}/performance-goals/{goal['id']}"
    partial = httpx.post(f"{url}/evaluation", headers=education, json={
        "conclusion": "x", "actuals": [{"name": "危房改造户数", "actual": "200"}]})
    assert partial.status_code == 422 and "户均补助" in partial.text
    evaluated = httpx.post(f"{url}/evaluation", headers=shuangyang, json={"conclusion": "目标基本完成", "actuals": [
        {"name": "危房改造户数", "actual": "180"}, {"name": "户均补助", "actual": "24000"},
        {"name": "住房安全保障", "actual": "achieved"}, {"name": "群众满意度", "actual": "88"}]})
    assert evaluated.status_code == 201, evaluated.text
    result = evaluated.json()["evaluation"]
    # 40 × 0.9 + 20 + 20 + 20 × (1 − 2/90) = 36 + 40 + 19.5556 → 95.56
    assert (result["total"], result["grade"]) == ("95.56", "优")
    scores = {s["name"]: s["score"] for s in result["scores"]}
    assert scores == {"危房改造户数": "36.00", "户均补助": "20.00", "住房安全保障": "20.00", "群众满意度": "19.56"}
    returned = httpx.post(f"{url}/reviews", headers=BUDGET, json={
        "filing": "evaluation", "decision": "returned", "reasons": "满意度调查样本不足", "rectify_by": f"{YEAR + 1}-01-31"})
    assert returned.status_code == 200 and returned.json()["evaluation"]["status"] == "returned"
    city = every(httpx.get, f"{performance}/performance-goals/summary", {"fiscal_year": YEAR}, headers=BUDGET)
    mine = next(u for u in city if u["org_unit"] == "220112")
    assert mine["goals"] == {"filed": 1} and mine["evaluations"] == {"returned": 1}
    assert [u["org_unit"] for u in every(httpx.get, f"{performance}/performance-goals/summary", {"fiscal_year": YEAR},
                                         headers=KUANCHENG)] in ([], ["220103"])


def test_goals_and_execution_export_as_xlsx_with_chinese_headers_within_scope(stack):
    performance = f"{stack.processes.url('performance')}/api/v1"
    admin = stack.admin_headers()
    with stack.client() as c:
        indicator = c.post("/indicators", json=indicator_body("600.00", org_unit="220113"), headers=admin).json()["id"]
    jiutai = forwarded("九台区财政局-沈", ["district"], org_unit="220113")
    probe = {"indicator_id": indicator, "goal": "probe", "indicators": [GOALS["indicators"][0] | {"weight": "50"}]}
    assert poll(lambda: "the weights add up to 50" in httpx.post(f"{performance}/performance-goals", headers=jiutai,
                                                                  json=probe).text)
    goal = httpx.post(f"{performance}/performance-goals", headers=jiutai, json={"indicator_id": indicator, **GOALS}).json()
    httpx.post(f"{performance}/performance-goals/{goal['id']}/progress", headers=jiutai, json={
        "period": f"{YEAR}-Q3", "actuals": [{"name": "危房改造户数", "actual": "150"}]}).raise_for_status()
    export = httpx.get(f"{performance}/performance-goals/export", params={"fiscal_year": YEAR},
                       headers=jiutai.exporting("/performance-goals/export"))
    assert export.status_code == 200
    book = CalamineWorkbook.from_filelike(io.BytesIO(export.content))
    goals_sheet = book.get_sheet_by_name("绩效目标").to_python()
    assert goals_sheet[0][:4] == ["预算指标编号", "区划", "主管处室", "绩效目标"]
    assert {r[1] for r in goals_sheet[1:]} == {"九台区"}, "only the district's own goals"
    assert [r[7] for r in goals_sheet[1:] if r[0] == indicator] == ["≥200", "≤25000", "全部达到安全标准", "90–100"]
    execution = book.get_sheet_by_name("执行情况").to_python()
    assert execution[0][3:9] == ["报告期", "三级指标", "实际值", "是否达成", "偏差率", "严重偏离"]
    assert [r[3:9] for r in execution[1:] if r[0] == indicator] == [[f"{YEAR}-Q3", "危房改造户数", "150", "否", "-0.2500",
                                                                     "是"]]
