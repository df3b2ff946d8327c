"""What measures come to (第二十二条(三)), end to end through the gateway: the ledger's answer to a recovery
(收回资金) — withdrawn as far as the money goes, the rest short, and the red light not 已纠正 until it is back — and
the outcome the supervision bureau records on a case referred to it (移交); and the measures of a month, per district,
in the division's monthly report (月报)."""

import asyncio
from uuid import uuid4

import pytest

from tests.e2e import db
from tests.e2e.conftest import indicator_body, payment_body
from tests.e2e.people import signed_in
from tests.e2e.test_alert_handling import cash_alert
from tests.e2e.test_measures import CONFIRM, REFER
from tests.support.waiting import poll

pytestmark = pytest.mark.e2e
RECOVER = {"action": "take_measure", "findings": "违规现金发放，收回资金", "measures": ["收回资金"]}
CORRECT = {"action": "record_correction", "findings": "已改为转账发放"}
CASH = "spending.cash_above_limit"


def recovery(c, headers, alert_id: str) -> dict | None:
    return c.get(f"/alerts/{alert_id}", headers=headers).json()["recovery"]


def test_a_recovery_short_of_money_withdraws_what_is_there_and_the_red_light_waits_for_the_rest(stack):
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    owner = signed_in("农业处-短收-王", ["division"], division="agriculture")
    with stack.client() as c:
        # Two cash payments on one indicator of 100,000.00: two yellow lights, 96,000.00 left.
        indicator = c.post("/indicators", json=indicator_body("100000.00"), headers=admin).json()["id"]
        pids = [f"{uuid4().hex[:8]}-short-{n}" for n in range(2)]
        c.post("/payments/batch", headers=treasury, json={"payments": [
            payment_body(p, indicator, "2000.00", settlement_method="cash") for p in pids]}).raise_for_status()
        both = poll(lambda: len(found := [a["id"] for a in c.get("/alerts", params={"rule": CASH, "limit": 1000},
                                                                   headers=admin).json()["items"]
                                          if a["subject"]["id"] in pids]) == 2 and found)
        assert both, "no yellow lights for the cash payments"
        # The ledger has counted both payments before it stops: what it withdraws then depends on the orders alone.
        assert poll(lambda: c.get(f"/indicators/{indicator}", headers=admin).json()["balance"]["paid"] == "4000.00")

        # While the ledger is down, each alert orders 60,000.00 back: alerting knows 96,000.00 left, and nothing
        # withdrawn yet, so it takes both orders.
        stack.processes.kill("ledger")
        try:
            for alert_id in both:
                url = f"/alerts/{alert_id}/dispositions"
                assert c.post(url, json=CONFIRM, headers=owner).status_code == 201
                ordered = c.post(url, json=RECOVER | {"returned_amount": "60000.00"}, headers=owner)
                assert ordered.status_code == 201 and ordered.json()["recovered"] == "60000.00", ordered.text
                # Not corrected while the money is not back.
                early = c.post(url, json=CORRECT, headers=owner)
                assert early.status_code == 409 and early.json()["type"].endswith("/recovery-outstanding"), early.text
                assert recovery(c, owner, alert_id)["state"] == "ordered"
        finally:
            stack.processes.start("ledger")
            stack.processes.wait_ready(["ledger"])

        # The ledger answers both: the first order whole, the second as far as the 36,000.00 left goes.
        answered = poll(lambda: all(recovery(c, owner, a)["state"] != "ordered" for a in both), timeout=60)
        assert answered, "the ledger did not answer the recoveries"
        found = {a: recovery(c, owner, a) for a in both}
        whole, short = sorted(both, key=lambda a: found[a]["state"])  # "recovered" < "short"
        assert [(found[a]["state"], found[a]["withdrawn"], found[a]["shortfall"]) for a in (whole, short)] == [
            ("recovered", "60000.00", "0.00"), ("short", "36000.00", "24000.00")]
        assert c.get(f"/indicators/{indicator}", headers=admin).json()["amount"] == "4000.00"

        # The whole one is corrected; the short one is refused, naming what is short.
        assert c.post(f"/alerts/{whole}/dispositions", json=CORRECT, headers=owner).json()["status"] == "green"
        refused = c.post(f"/alerts/{short}/dispositions", json=CORRECT, headers=owner)
        assert refused.status_code == 409 and refused.json()["shortfall"] == "24000.00", refused.text

        # Money comes back to the indicator (调增); a later 收回资金 orders the rest, at most what is short.
        c.post(f"/indicators/{indicator}/adjustments", json={"amount": "30000.00", "reason": "追加资金"},
               headers=admin).raise_for_status()
        url = f"/alerts/{short}/dispositions"
        too_much = c.post(url, json=RECOVER | {"returned_amount": "24000.01"}, headers=owner)
        assert too_much.status_code == 422 and too_much.json()["errors"][0]["field"] == "body.returned_amount"
        # Alerting takes the order once it has learned of the 调增 (a refused sheet records nothing).
        rest = poll(lambda: (r := c.post(url, json=RECOVER | {"returned_amount": "24000.00"}, headers=owner))
                    .status_code == 201 and r)
        assert rest and rest.json()["recovered"] == "60000.00", "the rest was not ordered"
        assert poll(lambda: recovery(c, owner, short)["state"] == "recovered"), (
            recovery(c, owner, short), c.get(f"/indicators/{indicator}", headers=admin).json())
        assert (recovery(c, owner, short)["withdrawn"], recovery(c, owner, short)["shortfall"]) == ("60000.00", "0.00")
        corrected = c.post(url, json=CORRECT, headers=owner)
        assert corrected.status_code == 201 and corrected.json()["status"] == "green", corrected.text
        assert c.get(f"/indicators/{indicator}", headers=admin).json()["amount"] == "10000.00"


def test_the_supervision_bureau_records_a_referrals_outcome_once(stack):
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    owner = signed_in("农业处-查处-王", ["division"], division="agriculture")
    bureau = signed_in("监督局-查处-孙", ["supervision"])
    outcome = {"decision": "立案查处", "findings": "查实以现金方式违规发放补助 2,000.00 元"}
    with stack.client() as c:
        alert_id = cash_alert(c, admin, treasury)
        url = f"/alerts/{alert_id}/dispositions"
        assert c.post(url, json=CONFIRM, headers=owner).status_code == 201
        number = c.post(url, json=REFER, headers=owner).json()["referral"]
        at = f"/referrals/{number}/outcome"

        # Only the bureau records it; bad input names the field; an unknown case is a 404.
        assert c.post(at, json=outcome, headers=owner).status_code == 403
        for wrong, field in (({"decision": "罚款"}, "body.decision"), ({"findings": " "}, "body.findings")):
            r = c.post(at, json=outcome | wrong, headers=bureau)
            assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, r.text
        assert c.post("/referrals/YJ-1999-999999/outcome", json=outcome, headers=bureau).status_code == 404
        assert c.get(f"/alerts/{alert_id}", headers=bureau).json()["referral"]["outcome"] is None

        first = c.post(at, json=outcome, headers=bureau)
        assert first.status_code == 200, first.text
        recorded = first.json()["outcome"]
        assert (recorded["decision"], recorded["findings"], recorded["concluded_by"]) == (
            "立案查处", outcome["findings"], "监督局-查处-孙")
        # The same outcome again changes nothing; another one is a conflict.
        again = c.post(at, json=outcome, headers=bureau)
        assert again.status_code == 200 and again.json()["outcome"] == recorded
        other = c.post(at, json=outcome | {"decision": "不予追究"}, headers=bureau)
        assert other.status_code == 409, other.text

        # Shown in the inbox and on the alert.
        inbox = [r for r in c.get("/referrals", params={"limit": 1000}, headers=bureau).json()["items"]
                 if r["number"] == number]
        assert [r["outcome"] for r in inbox] == [recorded]
        assert c.get(f"/alerts/{alert_id}", headers=owner).json()["referral"]["outcome"] == recorded


def test_a_divisions_monthly_report_counts_the_measures_taken_per_district(stack, servers):
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    owner = signed_in("经建处-月报-周", ["division"], division="economic")
    every = {"action": "take_measure", "findings": "严重违规：收回、暂缓拨付、通报并移交监督局", "returned_amount": "3000.00",
             "measures": ["收回资金", "暂缓拨付", "通报", "移交监督局"]}
    with stack.client() as c:
        indicator = c.post("/indicators", json=indicator_body("100000.00", owner_division="economic",
                                                              org_unit="220103"), headers=admin).json()["id"]
        pid = f"{indicator}-month"
        c.post("/payments/batch", headers=treasury, json={"payments": [
            payment_body(pid, indicator, "2000.00", settlement_method="cash", org_unit="220103")]}).raise_for_status()
        found = poll(lambda: [a["id"] for a in c.get("/alerts", params={"rule": CASH, "limit": 1000},
                                                     headers=admin).json()["items"] if a["subject"]["id"] == pid])
        assert found, "no yellow light for the cash payment"
        url = f"/alerts/{found[0]}/dispositions"
        assert c.post(url, json=CONFIRM, headers=owner).status_code == 201
        taken = c.post(url, json=every, headers=owner)
        assert taken.status_code == 201, taken.text

        # Sync learns each measure, the recovery once the ledger has answered it.
        taken_kinds = "SELECT kind FROM sync.measures_taken WHERE alert_id = $1 ORDER BY kind"
        assert poll(lambda: [r["kind"] for r in db.rows(servers.database_url, taken_kinds, found[0])] == [
            "circular", "recovery", "referral", "suspension"])
        # A month has to be over to be reported: the measures are moved to one (of a year no other test reports),
        # as a test lets a deadline pass.
        asyncio.run(db.execute(servers.database_url, "UPDATE sync.measures_taken SET at = '2015-06-15T10:00:00+08'"
                                                     " WHERE alert_id = $1", found[0]))
        report = c.post("/monthly-reports", json={"month": "2015-06", "kind": "division"}, headers=owner)
        assert report.status_code == 201, report.text
        assert report.json()["figures"]["measures"] == [
            {"org_unit": "220103", "org_unit_name": "宽城区", "recoveries": 1, "recovered": "3000.00", "short": "0.00",
             "suspensions": 1, "referrals": 1, "circulars": 1}]
