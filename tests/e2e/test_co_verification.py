"""Suspicious items (疑点) verified together with the supervision bureau (第二十四条(三)), and the alerts the offices
(预算处, 国库处, 局脱贫办) own, handled by whoever holds the office's role; end to end through the gateway."""

import pytest

from tests.e2e.conftest import indicator_body, payment_body
from tests.e2e.people import signed_in
from tests.e2e.test_alert_handling import cash_alert
from tests.support.waiting import poll

pytestmark = pytest.mark.e2e
VERIFY = {"action": "verify_normal", "method": "电话核实", "findings": "经电话核实，系按规定发放的临时救助"}
CONCUR = {"action": "concur", "findings": "监督局会同核实，同意处理意见"}


def test_a_suspicious_item_counts_as_verified_once_the_supervision_bureau_concurs(stack):
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    owner = signed_in("农业处-疑点-王", ["division"], division="agriculture")
    bureau = signed_in("监督局-疑点-孙", ["supervision"])
    with stack.client() as c:
        alert_id = cash_alert(c, admin, treasury)
        url = f"/alerts/{alert_id}/dispositions"
        # The mark belongs on a verification: elsewhere it is refused, naming the field.
        wrong = c.post(url, json=CONCUR | {"suspicious_item": True}, headers=bureau)
        assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "body.suspicious_item", wrong.text
        # Nothing to concur with before the division's sheet.
        assert c.post(url, json=CONCUR, headers=bureau).status_code == 409
        assert c.get(f"/alerts/{alert_id}", headers=owner).json()["co_verification"] is None

        verified = c.post(url, json=VERIFY | {"suspicious_item": True}, headers=owner)
        assert verified.status_code == 201 and verified.json()["status"] == "green", verified.text
        assert verified.json()["sheet"]["suspicious_item"] is True
        detail = c.get(f"/alerts/{alert_id}", headers=bureau).json()
        assert detail["co_verification"] == {"verification_sheet": verified.json()["sheet"]["number"],
                                             "concurrence_sheet": None, "verified": False,
                                             "awaiting": ["supervision"]}
        assert "concur" in detail["allowed_actions"]
        # The division does not concur with itself.
        assert c.post(url, json=CONCUR, headers=owner).status_code == 403

        concurred = c.post(url, json=CONCUR, headers=bureau)
        assert concurred.status_code == 201, concurred.text
        assert (concurred.json()["level"], concurred.json()["status"]) == ("yellow", "green")
        detail = c.get(f"/alerts/{alert_id}", headers=owner).json()
        assert detail["co_verification"] == {"verification_sheet": verified.json()["sheet"]["number"],
                                             "concurrence_sheet": concurred.json()["sheet"]["number"],
                                             "verified": True, "awaiting": []}
        # Concurred once: a second concurrence is out of turn.
        assert c.post(url, json=CONCUR, headers=bureau).status_code == 409


@pytest.mark.parametrize("office", ["budget", "treasury", "poverty_office"])
def test_whoever_holds_the_owning_offices_role_handles_its_alerts_without_a_division_role(stack, office):
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    holder = signed_in(f"{office}-处理-冯", [office])
    other = signed_in(f"{office}-旁观-李", ["poverty_office" if office != "poverty_office" else "budget"])
    confirm = {"action": "confirm_violation", "method": "调阅材料", "findings": "现金发放补助", "violation_type": "其他",
               "rectification": "改为转账发放"}
    with stack.client() as c:
        indicator = c.post("/indicators", json=indicator_body("100000.00", owner_division=office),
                           headers=admin).json()["id"]
        pid = f"{indicator}-office"
        c.post("/payments/batch", headers=treasury, json={"payments": [
            payment_body(pid, indicator, "2000.00", settlement_method="cash")]}).raise_for_status()
        found = poll(lambda: [a for a in c.get("/alerts", params={"rule": "spending.cash_above_limit", "limit": 1000},
                                               headers=admin).json()["items"] if a["subject"]["id"] == pid])
        assert found and found[0]["owner_division"] == office
        url = f"/alerts/{found[0]['id']}/dispositions"
        # Another office sees the alert but does not own it.
        assert c.post(url, json=confirm, headers=other).status_code == 403
        assert c.get(f"/alerts/{found[0]['id']}", headers=holder).json()["allowed_actions"] == [
            "verify_normal", "confirm_violation"]
        handled = c.post(url, json=confirm, headers=holder)
        assert handled.status_code == 201 and handled.json()["level"] == "red", handled.text
