"""One payment path through the real processes: gateway → payments → Kafka → alerting and ledger."""

import json
from uuid import uuid4

import httpx
import pytest

from tests.e2e.conftest import indicator_body, payment_body
from tests.support.waiting import poll

pytestmark = pytest.mark.e2e
OVERDRAW = "spending.payment_exceeds_available"


def alerts_of(client, headers, indicator_id: str) -> list[dict]:
    page = client.get("/alerts", params={"rule": OVERDRAW, "limit": 1000}, headers=headers).json()
    return [a for a in page["items"] if a["subject"]["indicator_id"] == indicator_id]


def test_an_overdrawn_indicator_raises_exactly_one_red_light_pushed_and_traced(stack):
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    with stack.client() as c:
        # Register an indicator of 1000.00.
        r = c.post("/indicators", json=indicator_body("1000.00"), headers=admin)
        assert r.status_code == 201, r.text
        indicator_id = r.json()["id"]
        # Open the alert stream before the payments arrive.
        with httpx.Client(base_url=f"{stack.gateway}/api/v1", timeout=httpx.Timeout(30, read=30)) as sse_client, \
                sse_client.stream("GET", "/alerts/stream", headers=admin) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            # The treasury posts 600.00 and 500.00.
            tag = uuid4().hex[:8]
            batch = {"payments": [payment_body(f"{tag}-1", indicator_id, "600.00"),
                                  payment_body(f"{tag}-2", indicator_id, "500.00")]}
            r = c.post("/payments/batch", json=batch, headers=treasury)
            assert r.status_code == 200, r.text
            assert r.json() | {"rejected": [], "conflicts": []} == {"accepted": 2, "duplicates": 0,
                                                                     "rejected": [], "conflicts": []}
            # The stream pushes the red light.
            pushed = None
            for line in stream.iter_lines():
                if line.startswith("data:"):
                    data = json.loads(line[5:])
                    if data["subject"]["indicator_id"] == indicator_id:
                        pushed = data
                        break
        assert pushed["level"] == "red" and pushed["rule_id"] == OVERDRAW

        # The ledger shows paid 1100.00 and available -100.00.
        def balance():
            b = c.get(f"/indicators/{indicator_id}", headers=admin).json()["balance"]
            return b if b["paid"] == "1100.00" else None
        assert poll(balance) == {"amount": "1000.00", "allocated": "0.00", "paid": "1100.00", "refunded": "0.00",
                                 "available": "-100.00"}

        # Exactly one red light, explained.
        found = alerts_of(c, admin, indicator_id)
        assert len(found) == 1
        alert = found[0]
        assert alert["id"] == pushed["alert_id"] and alert["level"] == "red" and alert["status"] == "open"
        assert alert["subject"]["id"] == f"{tag}-2"
        assert alert["explanation"]["values"]["indicator.available_before"] == "400.00"
        assert alert["explanation"]["values"]["indicator.available_after"] == "-100.00"
        assert "预算法" in alert["explanation"]["basis"]

        detail = c.get(f"/alerts/{alert['id']}", headers=admin).json()
        assert [h["event_type"] for h in detail["history"]] == ["alerting.AlertRaised"]
        trace_id = detail["history"][0]["trace_id"]

    # One trace spans the payment from the gateway request to the alert.
    def in_trace(service):
        return stack.span_names(service, trace_id)

    def whole_trace():
        return {
            "gateway": "POST /api/v1/{path:path}" in in_trace("gateway"),
            "payments request": "POST /api/v1/payments/batch" in in_trace("payments"),
            "outbox publish": "publish payments.PaymentRecorded" in in_trace("payments"),
            "alerting consume": "consume payments.PaymentRecorded" in in_trace("alerting"),
        }
    # Spans are exported in batches: wait for the last ones to land.
    poll(lambda: all(whole_trace().values()), timeout=10)
    assert whole_trace() == dict.fromkeys(whole_trace(), True)


def test_the_same_batch_twice_creates_nothing_new(stack):
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    with stack.client() as c:
        indicator_id = c.post("/indicators", json=indicator_body("5000.00"), headers=admin).json()["id"]
        tag = uuid4().hex[:8]
        batch = {"payments": [payment_body(f"{tag}-{i}", indicator_id, "100.00") for i in range(3)]}
        first = c.post("/payments/batch", json=batch, headers=treasury).json()
        again = c.post("/payments/batch", json=batch, headers=treasury).json()
        assert (first["accepted"], first["duplicates"]) == (3, 0)
        assert (again["accepted"], again["duplicates"], again["conflicts"]) == (0, 3, [])
        # A re-used id with different content is a conflict, not an overwrite.
        changed = {"payments": [payment_body(f"{tag}-0", indicator_id, "999.00")]}
        conflict = c.post("/payments/batch", json=changed, headers=treasury).json()
        assert conflict["accepted"] == 0 and conflict["conflicts"][0]["payment_id"] == f"{tag}-0"
        listed = c.get("/payments", params={"indicator_id": indicator_id}, headers=admin).json()["items"]
        assert sorted(p["amount"] for p in listed) == ["100.00"] * 3
        paid = poll(lambda: (b := c.get(f"/indicators/{indicator_id}", headers=admin).json()["balance"])["paid"]
                    == "300.00" and b)
        assert paid["available"] == "4700.00"


def test_a_malformed_record_is_rejected_with_its_index_and_field_and_the_rest_accepted(stack):
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    with stack.client() as c:
        indicator_id = c.post("/indicators", json=indicator_body("5000.00"), headers=admin).json()["id"]
        tag = uuid4().hex[:8]
        records = [payment_body(f"{tag}-0", indicator_id, "100.00"),
                   payment_body(f"{tag}-1", indicator_id, "1.001"),
                   payment_body(f"{tag}-2", indicator_id, "100.00", settlement_method="barter")]
        result = c.post("/payments/batch", json={"payments": records}, headers=treasury).json()
        assert result["accepted"] == 1
        assert [(r["index"], [e["field"] for e in r["errors"]]) for r in result["rejected"]] == [
            (1, ["payments[1].amount"]), (2, ["payments[2].settlement_method"])]


def test_bad_input_and_missing_credentials_get_problem_details_naming_the_field(stack):
    admin = stack.admin_headers()
    with stack.client() as c:
        r = c.post("/indicators", json=indicator_body("abc", org_unit="999999"), headers=admin)
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
        assert {e["field"] for e in r.json()["errors"]} == {"body.amount"}
        r = c.post("/indicators", json=indicator_body("100.00", org_unit="999999"), headers=admin)
        assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["org_unit"]
        assert c.get("/alerts").status_code == 401
        assert c.post("/payments/batch", json={"payments": []}, headers={"X-Api-Key": "wrong"}).status_code == 401
        # A service reached directly, without the gateway's signed identity, refuses.
        direct = httpx.get(f"{stack.processes.url('alerting')}/api/v1/alerts")
        assert direct.status_code == 401


def test_an_idempotency_key_makes_a_repeated_post_create_nothing_new(stack):
    admin = stack.admin_headers()
    key = {"Idempotency-Key": uuid4().hex}
    with stack.client() as c:
        first = c.post("/indicators", json=indicator_body("10.00"), headers=admin | key)
        again = c.post("/indicators", json=indicator_body("10.00"), headers=admin | key)
        assert first.status_code == again.status_code == 201
        assert first.json()["id"] == again.json()["id"] and again.headers["idempotency-replayed"] == "true"
        other = c.post("/indicators", json=indicator_body("11.00"), headers=admin | key)
        assert other.status_code == 422 and other.json()["errors"][0]["field"] == "Idempotency-Key"
