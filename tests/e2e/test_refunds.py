"""Refunds (退回) and reversals (冲正): never more than was paid, each once; balances follow."""

from uuid import uuid4

import pytest

from tests.e2e.conftest import indicator_body, payment_body
from tests.e2e.test_walking_skeleton import alerts_of
from tests.support.waiting import poll

pytestmark = pytest.mark.e2e


def test_refunds_restore_the_balance_once_and_never_exceed_the_payment(stack):
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    with stack.client() as c:
        indicator = c.post("/indicators", json=indicator_body("1000.00"), headers=admin).json()["id"]
        pid = f"{uuid4().hex[:8]}-1"
        c.post("/payments/batch", headers=treasury, json={"payments": [payment_body(pid, indicator, "900.00")]})
        refund = {"refund_id": f"{pid}-R1", "amount": "300.00", "refunded_at": "2026-03-05T10:00:00+08:00",
                  "reason": "收款账户错误退回"}
        r = c.post(f"/payments/{pid}/refunds", headers=treasury, json=refund)
        assert r.status_code == 201, r.text
        assert (r.json()["amount"], r.json()["refunded_total"]) == ("300.00", "300.00")
        # The same refund again changes nothing; the same id with other content is a conflict.
        again = c.post(f"/payments/{pid}/refunds", headers=treasury, json=refund)
        assert again.status_code == 200 and again.json()["refunded_total"] == "300.00"
        assert c.post(f"/payments/{pid}/refunds", headers=treasury,
                      json=refund | {"amount": "301.00"}).status_code == 409
        # More than is left (600.00) is refused, naming the amount.
        over = c.post(f"/payments/{pid}/refunds", headers=treasury,
                      json=refund | {"refund_id": f"{pid}-R2", "amount": "600.01"})
        assert over.status_code == 422 and over.json()["left"] == "600.00"
        assert c.post("/payments/none-such/refunds", headers=treasury, json=refund).status_code == 404
        other = f"{uuid4().hex[:8]}-9"
        c.post("/payments/batch", headers=treasury, json={"payments": [payment_body(other, indicator, "1.00")]})
        reused = c.post(f"/payments/{other}/refunds", headers=treasury, json=refund | {"amount": "1.00"})
        assert reused.status_code == 409 and reused.json()["errors"][0]["field"] == "refund_id"

        # The refund was recorded before the 1.00 payment: wait until the ledger has both.
        balance = poll(lambda: (b := c.get(f"/indicators/{indicator}", headers=admin).json()["balance"])
                       ["refunded"] == "300.00" and b["paid"] == "901.00" and b)
        assert balance and balance["available"] == "399.00"
        # With 300.00 back, 350.00 fits and raises nothing; the next 100.00 overdraws by 50.00. Alerting
        # judges one indicator's payments in order, so once the second is judged, so is the first.
        fits, over = f"{uuid4().hex[:8]}-2", f"{uuid4().hex[:8]}-3"
        c.post("/payments/batch", headers=treasury, json={"payments": [
            payment_body(fits, indicator, "350.00"), payment_body(over, indicator, "100.00")]})
        found = poll(lambda: alerts_of(c, admin, indicator))
        assert [a["subject"]["id"] for a in found] == [over], found[0]["explanation"]
        assert found[0]["explanation"]["values"]["indicator.refunded"] == "300.00"
        # A reversal returns all that is left of the first payment.
        rev = c.post(f"/payments/{pid}/refunds", headers=treasury,
                     json={"refund_id": f"{pid}-R3", "kind": "reversal", "refunded_at": "2026-03-06T09:00:00+08:00",
                           "reason": "支付冲正"})
        assert (rev.json()["amount"], rev.json()["refunded_total"]) == ("600.00", "900.00")
        listed = {p["payment_id"]: p for p in c.get("/payments", params={"indicator_id": indicator},
                                                      headers=admin).json()["items"]}
        assert listed[pid]["refunded"] == "900.00"
