"""GET /payments: filters a finance official uses, and a cursor that pages through without gaps or repeats."""

from uuid import uuid4

import pytest

from tests.e2e.conftest import indicator_body, payment_body

pytestmark = pytest.mark.e2e


def test_payments_are_filtered_and_paged_by_cursor(stack):
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    tag = uuid4().hex[:8]
    with stack.client() as c:
        indicator = c.post("/indicators", json=indicator_body("100000.00"), headers=admin).json()["id"]
        batch = [payment_body(f"{tag}-{n:02d}", indicator, f"{(n + 1) * 100}.00",
                              paid_at=f"2026-03-{n % 28 + 1:02d}T10:00:00+08:00",
                              settlement_method="cash" if n % 3 == 0 else "transfer") for n in range(25)]
        assert c.post("/payments/batch", json={"payments": batch}, headers=treasury).json()["accepted"] == 25
        seen, cursor = [], None
        while True:
            page = c.get("/payments", params={"indicator_id": indicator, "limit": 7, **({"cursor": cursor} if cursor
                                                                                        else {})}, headers=admin).json()
            seen += [p["payment_id"] for p in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == sorted(p["payment_id"] for p in batch) and len(seen) == 25
        newest_first = [p["paid_at"] for p in c.get("/payments", params={"indicator_id": indicator, "limit": 25},
                                                      headers=admin).json()["items"]]
        assert newest_first == sorted(newest_first, reverse=True)
        cash = c.get("/payments", params={"indicator_id": indicator, "settlement_method": "cash",
                                          "amount_min": "500", "amount_max": "1600"}, headers=admin).json()["items"]
        assert sorted(p["amount"] for p in cash) == ["1000.00", "1300.00", "1600.00", "700.00"]
        march = c.get("/payments", params={"indicator_id": indicator, "paid_from": "2026-03-10T00:00:00+08:00",
                                           "paid_to": "2026-03-12T00:00:00+08:00"}, headers=admin).json()["items"]
        assert sorted(p["payment_id"] for p in march) == [f"{tag}-09", f"{tag}-10"]
        bad = c.get("/payments", params={"cursor": "not-a-cursor"}, headers=admin)
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"
        naive = c.get("/payments", params={"paid_from": "2026-03-10T00:00:00"}, headers=admin)
        assert naive.status_code == 422 and "paid_from" in naive.text


@pytest.mark.parametrize("path,body,field", [
    pytest.param("/indicators", {"amount": "6902095515004007874271965884"}, "body.amount", id="register-indicator"),
    pytest.param("/payments?amount_max=6.3e16", None, "query.amount_max", id="payment-filter"),
])
def test_money_beyond_what_the_ledger_holds_is_a_422_naming_the_field(stack, path, body, field):
    admin = stack.admin_headers()
    with stack.client() as c:
        r = (c.post(path, json=indicator_body() | body, headers=admin) if body is not None
             else c.get(path, headers=admin))
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]
