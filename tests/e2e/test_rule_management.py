"""Rule management: rules in force with their precision, the yearly proposal and review (附件1, 附件2), the
national levels that stay fixed, and backtests that raise nothing."""

import asyncio
import io

import httpx
import pytest
from python_calamine import CalamineWorkbook

from backbone.clock import clock
from services.alerting.scheduler import next_cycle_year
from tests.e2e import clocks, db
from tests.e2e.pages import every
from tests.e2e.people import forwarded
from tests.e2e.test_alert_handling import OTHER_DIVISION, OWNER, cash_alert
from tests.support.waiting import poll

pytestmark = pytest.mark.e2e
TREASURY = forwarded("国库处-周", ["treasury"])
SUPERVISION_ALL = forwarded("监督局-郑", ["supervision"])
NEXT_YEAR = clock().today().year + 1


def rule_of(rules: list[dict], rule_id: str) -> dict:
    return next(r for r in rules if r["rule"]["id"] == rule_id)


def test_a_proposal_is_reviewed_approved_and_in_force_for_its_year_with_the_forms_exported(stack):
    alerting = f"{stack.processes.url('alerting')}/api/v1"
    admin = stack.admin_headers()
    with stack.client() as c:
        rules = every(c.get, "/rules", headers=admin)
        # In the order of their numbers, a page at a time.
        assert every(c.get, "/rules", {"limit": 3}, headers=admin) == rules
    assert [(r["rule"]["number"], r["rule"]["id"]) for r in rules] == sorted(
        (r["rule"]["number"], r["rule"]["id"]) for r in rules)
    cash = rule_of(rules, "spending.cash_above_limit")
    assert cash["source"] == "starter" and cash["rule"]["parameters"]["single_limit"] == "1000.00"
    assert {r["rule"]["number"] for r in rules} >= {"ZC-001", "ZC-004", "DR-001", "DR-003", "ZB-002", "ZB-003"}

    stricter = cash["rule"] | {"parameters": {"single_limit": "500.00"}}
    national = rule_of(rules, "spending.payment_exceeds_available")["rule"] | {"level": "yellow"}
    refused = httpx.post(f"{alerting}/rules", json={"fiscal_year": NEXT_YEAR, "definition": national}, headers=OWNER)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "definition.level"
    broken = httpx.post(f"{alerting}/rules", json={"fiscal_year": NEXT_YEAR, "definition": stricter | {
        "when": "payment.amount >"}}, headers=OWNER)
    assert broken.status_code == 422 and "definition" in broken.text
    too_late = httpx.post(f"{alerting}/rules", json={"fiscal_year": NEXT_YEAR - 1, "definition": stricter},
                          headers=OWNER)
    assert too_late.status_code == 422 and too_late.json()["errors"][0]["field"] == "fiscal_year"
    assert httpx.post(f"{alerting}/rules", json={"fiscal_year": NEXT_YEAR, "definition": stricter},
                      headers=forwarded("南关区", ["district"], org_unit="220102")).status_code == 403

    proposed = httpx.post(f"{alerting}/rules", json={"fiscal_year": NEXT_YEAR, "definition": stricter,
                                                      "contact": "0431-88888888"}, headers=OWNER)
    assert proposed.status_code == 201, proposed.text
    proposal = proposed.json()
    assert (proposal["status"], proposal["proposer_division"]) == ("proposed", "agriculture")
    # Only what the treasury accepted can be approved; the owner division cannot review its own proposal.
    url = f"{alerting}/rule-proposals/{proposal['proposal_id']}"
    assert httpx.post(f"{url}/approval", headers=TREASURY).status_code == 409
    assert httpx.post(f"{url}/review", json={"decision": "accepted", "reason": "同意"}, headers=OWNER).status_code == 403
    accepted = httpx.post(f"{url}/review", json={"decision": "accepted", "reason": "汇总报省厅"}, headers=TREASURY)
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    approved = httpx.post(f"{url}/approval", headers=TREASURY)
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    listed = httpx.get(f"{alerting}/rule-proposals", params={"fiscal_year": NEXT_YEAR, "limit": 1}, headers=OWNER)
    assert [p["proposal_id"] for p in listed.json()["items"]] == [proposal["proposal_id"]], "newest first"

    with stack.client() as c:
        next_year = rule_of(every(c.get, "/rules", {"fiscal_year": NEXT_YEAR}, headers=admin),
                            "spending.cash_above_limit")
        this_year = rule_of(every(c.get, "/rules", headers=admin), "spending.cash_above_limit")
    assert next_year["source"] == "local" and next_year["rule"]["parameters"]["single_limit"] == "500.00"
    assert this_year["rule"]["parameters"]["single_limit"] == "1000.00", "in force from its own year only"

    form = httpx.get(f"{alerting}/rule-proposals/export", params={"fiscal_year": NEXT_YEAR},
                     headers=OWNER.exporting("/rule-proposals/export"))
    rows = CalamineWorkbook.from_filelike(io.BytesIO(form.content)).get_sheet_by_name("申请表").to_python()
    assert rows[0][0] == "财政扶贫资金动态监控平台预警规则申请表"
    assert rows[2] == ["序号", "规则名称", "规则分类", "预警级别", "规则描述", "规则依据", "适用范围", "预警处理人"]
    assert rows[3][1:4] == ["单笔现金结算超过限额", "支出管理", "黄灯预警"] and rows[3][6] == "全市"

    requirement = httpx.post(f"{alerting}/requirements", headers=OWNER, json={
        "fiscal_year": NEXT_YEAR, "kind": "资金支付", "description": "到人到户资金按月比对一卡通发放明细",
        "basis": "本规程第七条（一）2", "scope": ["220102", "220103"]})
    assert requirement.status_code == 201
    form = httpx.get(f"{alerting}/requirements/export", params={"fiscal_year": NEXT_YEAR},
                     headers=OWNER.exporting("/requirements/export"))
    rows = CalamineWorkbook.from_filelike(io.BytesIO(form.content)).get_sheet_by_name("申请表").to_python()
    assert rows[2] == ["序号", "业务需求类型", "业务需求描述", "依据", "适用范围"]
    # Other requirements of that year (the console's tests file some) stand beside it in the form.
    assert ["资金支付", "到人到户资金按月比对一卡通发放明细", "本规程第七条（一）2", "南关区、宽城区"] in [r[1:] for r in rows[3:]]


def test_a_backtest_counts_what_a_draft_would_raise_and_raises_nothing_and_precision_follows_verifications(stack):
    alerting = f"{stack.processes.url('alerting')}/api/v1"
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    with stack.client() as c:
        alert_id = cash_alert(c, admin, treasury)

        def cash_alerts() -> int:
            return len(c.get("/alerts", params={"rule": "spending.cash_above_limit", "limit": 1000},
                             headers=admin).json()["items"])
        httpx.post(f"{alerting}/alerts/{alert_id}/dispositions", headers=OWNER, json={
            "action": "verify_normal", "method": "电话核实", "findings": "系统外已补签转账凭证"}).raise_for_status()
        before = cash_alerts()
        draft = c.post("/rules/spending.cash_above_limit/backtest", headers=admin, json={
            "definition": {"parameters": {"single_limit": "100.00"}}})
        assert draft.status_code == 200, draft.text
        result = draft.json()
        assert result["examined"] >= 1 and result["would_raise"] >= 1 and result["by_level"]["yellow"] >= 1
        assert result["samples"][0]["summary"].startswith("支付") and "100.00" in result["samples"][0]["summary"]
        assert c.post("/rules/indicator.not_allocated_in_time/backtest", headers=admin,
                      json={}).status_code == 422
        # A division backtests on its own funds only: education sees none of agriculture's payments.
        draft_body = {"definition": {"parameters": {"single_limit": "100.00"}}}
        own = httpx.post(f"{alerting}/rules/spending.cash_above_limit/backtest", headers=OWNER, json=draft_body).json()
        other = httpx.post(f"{alerting}/rules/spending.cash_above_limit/backtest", headers=OTHER_DIVISION,
                           json=draft_body).json()
        assert own["would_raise"] >= 1 and other["examined"] < result["examined"]
        assert cash_alerts() == before, "a backtest raises nothing"
        precision = poll(lambda: (p := rule_of(every(c.get, "/rules", headers=admin), "spending.cash_above_limit")
                                  ["precision"])["verified_normal"] >= 1 and p)
        assert precision and precision["precision"] is not None


async def cycle_watches(database_url: str, year: int) -> dict[str, str]:
    rows = await db.fetch(database_url, "SELECT subject_id, state FROM alerting.watches WHERE subject_id LIKE $1",
                          f"{year}-%")
    return {r["subject_id"]: r["state"] for r in rows}


def test_the_yearly_cycle_rings_for_divisions_that_have_not_proposed_and_for_the_report_to_the_province(
        stack, servers):
    alerting = f"{stack.processes.url('alerting')}/api/v1"
    year = next_cycle_year(clock().today())
    watches = poll(lambda: asyncio.run(cycle_watches(servers.database_url, year)))
    assert {f"{year}-agriculture", f"{year}-education", f"{year}-treasury"} <= set(watches)
    # 教科文处 is five working days from 10-15 without a proposal: its bell rings, and its proposal clears it.
    asyncio.run(clocks.move(servers.database_url, "bell_at", f"{year}-education"))

    def cycle_alert(party: str, rule: str):
        items = httpx.get(f"{alerting}/alerts", params={"rule": rule, "limit": 1000}, headers=SUPERVISION_ALL).json()
        return next((a for a in items["items"] if a["subject"]["id"] == f"{year}-{party}"), None)
    bell = poll(lambda: cycle_alert("education", "workflow.rules_not_proposed"))
    assert bell and bell["level"] == "yellow_bell" and bell["owner_division"] == "education"
    education = forwarded("教科文处-吴", ["division"], division="education")
    httpx.post(f"{alerting}/requirements", headers=education, json={
        "fiscal_year": year, "kind": "绩效管理", "description": "教育扶贫项目绩效目标按学期监控",
        "basis": "本规程第七条（一）3", "scope": ["*"]}).raise_for_status()
    assert poll(lambda: cycle_alert("education", "workflow.rules_not_proposed")["status"] == "cleared")
    # 经济建设处 lets 10-15 pass: a yellow light, routed to it.
    asyncio.run(clocks.move(servers.database_url, "due_at", f"{year}-economic"))
    late = poll(lambda: cycle_alert("economic", "workflow.rules_not_proposed"))
    assert late and (late["level"], late["owner_division"]) == ("yellow", "economic")
    # The treasury's report to the province stops its clock.
    assert httpx.post(f"{alerting}/rule-proposals/submission", json={"fiscal_year": year},
                      headers=TREASURY).status_code == 201
    assert poll(lambda: asyncio.run(cycle_watches(servers.database_url, year))[f"{year}-treasury"] == "met")
