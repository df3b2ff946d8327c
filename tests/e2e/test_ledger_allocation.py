"""Allocation (分配下达), adjustment and withdrawal through the gateway."""

from decimal import Decimal
from uuid import uuid4

import pytest

from tests.e2e import db
from tests.e2e.conftest import indicator_body, payment_body
from tests.e2e.test_walking_skeleton import alerts_of
from tests.support.waiting import poll

pytestmark = pytest.mark.e2e


def balance(c, admin, iid: str) -> dict:
    return c.get(f"/indicators/{iid}", headers=admin).json()["balance"]


def test_allocation_adjustment_and_withdrawal_keep_children_within_the_parent(stack):
    admin = stack.admin_headers()
    with stack.client() as c:
        parent = c.post("/indicators", json=indicator_body("1000.00", org_unit="220100"), headers=admin).json()["id"]
        # Allocate 600.00 to 南关区 and 300.00 to 宽城区.
        r = c.post(f"/indicators/{parent}/allocations", headers=admin, json={"allocations": [
            {"amount": "600.00", "org_unit": "220102", "owner_division": "agriculture"},
            {"amount": "300.00", "org_unit": "220103", "owner_division": "agriculture", "doc_no": "长财农指〔2026〕30号"},
        ]})
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["parent"]["balance"] | {} == {"amount": "1000.00", "allocated": "900.00", "paid": "0.00",
                                                  "refunded": "0.00", "available": "100.00"}
        nanguan, kuancheng = (ch["id"] for ch in body["children"])
        child = c.get(f"/indicators/{nanguan}", headers=admin).json()
        assert (child["parent_id"], child["level"], child["doc_no"]) == (parent, "district", "长财农指〔2026〕12号")
        assert c.get(f"/indicators/{kuancheng}", headers=admin).json()["doc_no"] == "长财农指〔2026〕30号"

        # Over-allocation is refused with the parent, its available amount and the request; nothing changes.
        r = c.post(f"/indicators/{parent}/allocations", headers=admin, json={"allocations": [
            {"amount": "100.01", "org_unit": "220104", "owner_division": "agriculture"}]})
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
        assert (r.json()["indicator_id"], r.json()["available"], r.json()["requested"]) == (parent, "100.00", "100.01")
        assert balance(c, admin, parent)["allocated"] == "900.00"

        # A child cannot grow by itself; taking 200.00 back from it frees the parent.
        r = c.post(f"/indicators/{nanguan}/adjustments", headers=admin, json={"amount": "50.00", "reason": "追加"})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "amount"
        r = c.post(f"/indicators/{nanguan}/withdrawals", headers=admin,
                   json={"amount": "200.00", "reason": "项目调整，收回结余资金"})
        assert r.status_code == 200 and r.json()["balance"]["amount"] == "400.00"
        assert balance(c, admin, parent)["available"] == "300.00"
        r = c.post(f"/indicators/{parent}/adjustments", headers=admin, json={"amount": "-300.01", "reason": "调减"})
        assert r.status_code == 422 and r.json()["available"] == "300.00"
        r = c.post(f"/indicators/{parent}/adjustments", headers=admin, json={"amount": "500.00", "reason": "中央追加"})
        assert r.json()["balance"] | {} == {"amount": "1500.00", "allocated": "700.00", "paid": "0.00",
                                            "refunded": "0.00", "available": "800.00"}


def test_alerting_follows_a_withdrawal_on_the_child_it_judges(stack, servers):
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    with stack.client() as c:
        parent = c.post("/indicators", json=indicator_body("1000.00", org_unit="220100"), headers=admin).json()["id"]
        child = c.post(f"/indicators/{parent}/allocations", headers=admin, json={"allocations": [
            {"amount": "500.00", "org_unit": "220102", "owner_division": "agriculture"}]}).json()["children"][0]["id"]
        c.post(f"/indicators/{child}/withdrawals", headers=admin, json={"amount": "200.00", "reason": "收回"})
        # The treasury pays after alerting has heard of the withdrawal. Payments and the ledger's events come by two
        # topics: a payment alerting sees before its indicator is judged when the indicator comes, against the
        # amount registered, and a withdrawal that comes later does not judge it again.
        assert poll(lambda: db.rows(servers.database_url, "SELECT amount FROM alerting.indicator_balances "
                                    "WHERE indicator_id = $1", child) == [{"amount": Decimal("300.00")}])
        tag = uuid4().hex[:8]
        # 300.00 is left on the child: 250.00 passes, the next 100.00 overdraws it.
        c.post("/payments/batch", headers=treasury, json={"payments": [
            payment_body(f"{tag}-1", child, "250.00"), payment_body(f"{tag}-2", child, "100.00")]})
        found = poll(lambda: alerts_of(c, admin, child))
        assert [a["subject"]["id"] for a in found] == [f"{tag}-2"]
        assert found[0]["explanation"]["values"]["indicator.amount"] == "300.00"
