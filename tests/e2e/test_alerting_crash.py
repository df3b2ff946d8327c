"""Kill the alerting process while payments stream in: after a restart no alert is lost or doubled."""

import time
from uuid import uuid4

import pytest

from tests.e2e import quiet
from tests.e2e.conftest import indicator_body, payment_body
from tests.e2e.test_walking_skeleton import OVERDRAW
from tests.support.waiting import poll

pytestmark = pytest.mark.e2e
INDICATORS, PAYMENTS_EACH = 8, 20
# 1000.00 drawn in payments of 150.00: the 7th and every later payment overdraws, whatever
# order alerting sees them in, so each indicator ends with exactly 14 red lights.
EXPECTED_PER_INDICATOR = PAYMENTS_EACH - 6


def test_sigkill_of_alerting_mid_stream_loses_and_doubles_nothing(stack, servers):
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    with stack.client() as c:
        ids = [c.post("/indicators", json=indicator_body("1000.00"), headers=admin).json()["id"]
               for _ in range(INDICATORS)]
        tag = uuid4().hex[:8]
        batches = [[payment_body(f"{tag}-{i}-{n}", ind, "150.00") for i, ind in enumerate(ids)]
                   for n in range(PAYMENTS_EACH)]
        for n, batch in enumerate(batches):
            assert c.post("/payments/batch", json={"payments": batch}, headers=treasury).json()["accepted"] == INDICATORS
            if n == PAYMENTS_EACH // 3:
                stack.processes.kill("alerting")
            # Load pacing, not waiting: payments keep arriving while alerting works, so the kill lands mid-stream.
            time.sleep(0.05)
        stack.processes.start("alerting")
        stack.processes.wait_ready(["alerting"])

        def counts():
            items = c.get("/alerts", params={"rule": OVERDRAW, "limit": 1000}, headers=admin).json()["items"]
            per = {ind: [a for a in items if a["subject"]["indicator_id"] == ind] for ind in ids}
            return per if all(len(v) >= EXPECTED_PER_INDICATOR for v in per.values()) else None

        per_indicator = poll(counts, timeout=60)
        assert per_indicator is not None, "alerts were lost"
        # Anything doubled would come from an event still in flight: wait until nothing is.
        quiet.settle(servers)
        per_indicator = counts()
        assert {ind: len(v) for ind, v in per_indicator.items()} == dict.fromkeys(ids, EXPECTED_PER_INDICATOR)
        subjects = [a["subject"]["id"] for v in per_indicator.values() for a in v]
        assert len(subjects) == len(set(subjects))
        def ledger_caught_up():
            return all(c.get(f"/indicators/{ind}", headers=admin).json()["balance"]["paid"] == "3000.00" for ind in ids)
        assert poll(ledger_caught_up, timeout=30)
