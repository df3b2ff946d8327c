"""Measures that open a record (第二十二条(三)) end to end, through the gateway: 移交监督局 opens a numbered case in the
supervision bureau's inbox, 通报 a numbered circular against the district or the division; each once per alert,
visible on the alert with who took it."""

import pytest

from tests.e2e import db
from tests.e2e.conftest import payment_body
from tests.e2e.people import signed_in
from tests.e2e.test_alert_handling import cash_alert
from tests.support.waiting import poll

pytestmark = pytest.mark.e2e
CONFIRM = {"action": "confirm_violation", "method": "调阅材料", "findings": "现金发放补助，未通过一卡通",
           "violation_type": "其他", "rectification": "改为转账发放"}
REFER = {"action": "take_measure", "findings": "拒不整改，移交监督局查处", "measures": ["暂缓拨付", "移交监督局"]}


def test_a_measure_refers_a_red_light_to_the_supervision_bureaus_inbox_once(stack):
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    owner = signed_in("农业处-移交-王", ["division"], division="agriculture")
    bureau = signed_in("监督局-移交-孙", ["supervision"])
    with stack.client() as c:
        alert_id = cash_alert(c, admin, treasury)
        url = f"/alerts/{alert_id}/dispositions"
        assert c.post(url, json=CONFIRM, headers=owner).status_code == 201
        # A measure the seed does not name is refused, naming the field; nothing is referred.
        wrong = c.post(url, json=REFER | {"measures": ["移交某处"]}, headers=owner)
        assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "body.measures", wrong.text
        assert c.get(f"/alerts/{alert_id}", headers=owner).json()["referral"] is None

        referred = c.post(url, json=REFER, headers=owner)
        assert referred.status_code == 201, referred.text
        number = referred.json()["referral"]
        assert number.startswith("YJ-") and referred.json()["level"] == "red"
        # The same measure again is another sheet, not another case.
        again = c.post(url, json=REFER, headers=owner)
        assert again.status_code == 201 and again.json()["referral"] == number

        inbox = poll(lambda: [r for r in c.get("/referrals", params={"limit": 1000}, headers=bureau).json()["items"]
                              if r["alert_id"] == alert_id])
        assert [(r["number"], r["sheet_number"], r["referred_by"], r["referred_by_division"], r["rule_number"])
                for r in inbox] == [(number, referred.json()["sheet"]["number"], "农业处-移交-王", "agriculture",
                                     "ZC-003")]
        detail = c.get(f"/alerts/{alert_id}", headers=bureau).json()
        assert detail["referral"]["number"] == number and detail["referral"]["findings"] == REFER["findings"]
        # The inbox is the bureau's: a division does not read it.
        assert c.get("/referrals", headers=owner).status_code == 403
        assert c.get("/referrals", params={"limit": 0}, headers=bureau).status_code == 422


def test_a_circular_is_recorded_against_the_district_or_the_division_once(stack):
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    owner = signed_in("农业处-通报-王", ["division"], division="agriculture")
    district = signed_in("南关区财政局-通报-赵", ["district"], org_unit="220102")
    elsewhere = signed_in("宽城区财政局-通报-钱", ["district"], org_unit="220103")
    circulate = {"action": "take_measure", "findings": "现金发放屡查屡犯", "measures": ["通报"]}
    with stack.client() as c:
        alert_id = cash_alert(c, admin, treasury)
        url = f"/alerts/{alert_id}/dispositions"
        assert c.post(url, json=CONFIRM, headers=owner).status_code == 201
        wrong = c.post(url, json=circulate | {"circulate_against": "province"}, headers=owner)
        assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "body.circulate_against", wrong.text

        first = c.post(url, json=circulate, headers=owner)
        assert first.status_code == 201, first.text
        number = first.json()["circular"]
        assert number.startswith("TB-") and first.json()["referral"] is None
        again = c.post(url, json=circulate | {"circulate_against": "division"}, headers=owner)
        assert again.status_code == 201 and again.json()["circular"] == number, "one circular per alert"

        mine = [r for r in c.get("/circulars", params={"limit": 1000}, headers=district).json()["items"]
                if r["alert_id"] == alert_id]
        assert [(r["number"], r["against"], r["org_unit"], r["circulated_by"]) for r in mine] == [
            (number, "district", "220102", "农业处-通报-王")], "a district's alert is circulated against the district"
        assert alert_id not in [r["alert_id"] for r in c.get("/circulars", params={"limit": 1000},
                                                              headers=elsewhere).json()["items"]]
        detail = c.get(f"/alerts/{alert_id}", headers=owner).json()
        assert detail["circular"]["number"] == number and detail["circular"]["sheet_number"] == \
            first.json()["sheet"]["number"]


def alerts_on(c, headers, rule: str, payment_id: str) -> list[dict]:
    return [a for a in c.get("/alerts", params={"rule": rule, "limit": 1000}, headers=headers).json()["items"]
            if a["subject"]["id"] == payment_id]


def test_a_suspended_indicator_turns_later_payments_red_until_its_division_asks_and_the_bureau_consents(stack):
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    owner = signed_in("农业处-暂缓-王", ["division"], division="agriculture")
    other = signed_in("教科文处-暂缓-李", ["division"], division="education")
    bureau = signed_in("监督局-暂缓-孙", ["supervision"])
    suspend = {"action": "take_measure", "findings": "违规发放，暂缓拨付", "measures": ["暂缓拨付"]}
    with stack.client() as c:
        alert_id = cash_alert(c, admin, treasury)
        indicator = c.get(f"/alerts/{alert_id}", headers=admin).json()["subject"]["indicator_id"]
        url = f"/alerts/{alert_id}/dispositions"
        assert c.post(url, json=CONFIRM, headers=owner).status_code == 201
        first = c.post(url, json=suspend, headers=owner)
        assert first.status_code == 201 and first.json()["suspended_indicator"] == indicator, first.text
        # The same measure again is another sheet, not another suspension.
        assert c.post(url, json=suspend, headers=owner).status_code == 201
        standing = c.get(f"/suspensions/{indicator}", headers=owner).json()
        assert (standing["state"], standing["version"], standing["suspended_by"]) == ("suspended", 1, "农业处-暂缓-王")
        assert c.get(f"/alerts/{alert_id}", headers=owner).json()["suspension"]["state"] == "suspended"

        # A payment on the suspended indicator: a red light (ZC-010) for the division that owns the fund.
        c.post("/payments/batch", headers=treasury, json={"payments": [
            payment_body(f"{indicator}-while", indicator, "10.00")]}).raise_for_status()
        red = poll(lambda: alerts_on(c, admin, "spending.paid_while_suspended", f"{indicator}-while"))
        assert red and (red[0]["level"], red[0]["owner_division"]) == ("red", "agriculture")

        lift = f"/suspensions/{indicator}/lift-request"
        decision = f"/suspensions/{indicator}/lift-decision"
        assert c.post(decision, json={"consent": True, "reason": "同意"}, headers=bureau).status_code == 409
        assert c.post(lift, json={"reason": "已整改"}, headers=other).status_code == 404, "not its fund"
        blank = c.post(lift, json={"reason": " "}, headers=owner)
        assert blank.status_code == 422 and blank.json()["errors"][0]["field"] == "body.reason", blank.text
        asked = c.post(lift, json={"reason": "已收回违规资金并改为转账"}, headers=owner)
        assert asked.status_code == 200 and asked.json()["state"] == "lift_requested", asked.text
        assert c.post(lift, json={"reason": "再次"}, headers=owner).status_code == 409, "asked once is enough"
        assert c.post(decision, json={"consent": True, "reason": "同意"}, headers=owner).status_code == 403
        lifted = c.post(decision, json={"consent": True, "reason": "整改到位，同意解除"}, headers=bureau)
        assert lifted.status_code == 200 and (lifted.json()["state"], lifted.json()["decided_by"]) == (
            "lifted", "监督局-暂缓-孙"), lifted.text

        # Lifted: a later payment is judged as any other (its cash light shows it was judged), no ZC-010.
        c.post("/payments/batch", headers=treasury, json={"payments": [
            payment_body(f"{indicator}-after", indicator, "2000.00", settlement_method="cash")]}).raise_for_status()
        assert poll(lambda: alerts_on(c, admin, "spending.cash_above_limit", f"{indicator}-after"))
        assert alerts_on(c, admin, "spending.paid_while_suspended", f"{indicator}-after") == []


def test_a_recovery_is_written_by_the_ledger_as_a_withdrawal_by_whoever_ordered_it_once(stack, servers):
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    owner = signed_in("农业处-收回-王", ["division"], division="agriculture")
    recover = {"action": "take_measure", "findings": "违规现金发放，收回资金", "measures": ["收回资金"],
               "returned_amount": "3000.00"}
    with stack.client() as c:
        alert_id = cash_alert(c, admin, treasury)
        indicator = c.get(f"/alerts/{alert_id}", headers=admin).json()["subject"]["indicator_id"]
        url = f"/alerts/{alert_id}/dispositions"
        assert c.post(url, json=CONFIRM, headers=owner).status_code == 201
        # Without the amount, or more than is left on the indicator: refused, naming the field; nothing ordered.
        for wrong in ({k: v for k, v in recover.items() if k != "returned_amount"},
                      recover | {"returned_amount": "99000.00"}):
            r = c.post(url, json=wrong, headers=owner)
            assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.returned_amount", r.text
        first = c.post(url, json=recover, headers=owner)
        assert first.status_code == 201 and first.json()["recovered"] == "3000.00", first.text
        again = c.post(url, json=recover | {"returned_amount": "1000.00"}, headers=owner)
        assert again.status_code == 201 and again.json()["recovered"] == "3000.00", "one recovery per alert"

        # The ledger withdraws it (收回): 100,000.00 registered, 3,000.00 taken back.
        assert poll(lambda: c.get(f"/indicators/{indicator}", headers=admin).json()["amount"] == "97000.00")
        detail = c.get(f"/alerts/{alert_id}", headers=owner).json()
        assert (detail["recovery"]["amount"], detail["recovery"]["sheet_number"], detail["recovery"]["ordered_by"]) \
            == ("3000.00", first.json()["sheet"]["number"], "农业处-收回-王")
    withdrawals = db.rows(servers.database_url, "SELECT payload->>'kind' AS kind, payload->>'delta' AS delta,"
                          " metadata->>'actor' AS actor FROM ledger.events WHERE stream_id = $1"
                          " AND event_type = 'ledger.IndicatorAdjusted'", f"indicator-{indicator}")
    assert withdrawals == [{"kind": "withdrawal", "delta": "-3000.00", "actor": "农业处-收回-王"}]
