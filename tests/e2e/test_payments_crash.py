"""Kill the payments process while the treasury streams batches: nothing acknowledged is lost or doubled."""

import asyncio
import threading
import time
from uuid import uuid4

import httpx
import pytest

from tests.e2e import db
from tests.e2e.conftest import indicator_body, payment_body
from tests.support.waiting import poll

pytestmark = pytest.mark.e2e
BATCHES, PER_BATCH = 24, 100


async def recorded_counts(database_url: str, prefix: str) -> dict[str, int]:
    rows = await db.fetch(database_url, "SELECT stream_id, count(*) AS n FROM payments.events WHERE stream_id LIKE $1"
                          " AND event_type = 'payments.PaymentRecorded' GROUP BY stream_id", prefix + "%")
    return {r["stream_id"]: r["n"] for r in rows}


def test_sigkill_of_payments_mid_stream_keeps_every_acknowledged_payment_exactly_once(stack, servers):
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    with stack.client() as c:
        indicator = c.post("/indicators", json=indicator_body("100000.00"), headers=admin).json()["id"]
    tag = uuid4().hex[:8]
    batches = [[payment_body(f"{tag}-{b}-{i}", indicator, "1.00") for i in range(PER_BATCH)] for b in range(BATCHES)]
    acked: dict[int, dict] = {}
    failures: list[str] = []

    def treasury_system() -> None:
        # Like the treasury: a batch without an answer is sent again until one comes.
        with stack.client() as client:
            for n, batch in enumerate(batches):
                deadline = time.monotonic() + 90
                while time.monotonic() < deadline:
                    try:
                        r = client.post("/payments/batch", json={"payments": batch}, headers=treasury)
                        if r.status_code == 200:
                            acked[n] = r.json()
                            break
                        failures.append(str(r.status_code))
                    except httpx.TransportError as exc:
                        failures.append(type(exc).__name__)
                    time.sleep(0.2)  # the sender's retry interval (load pacing): the test waits on `acked`

    sender = threading.Thread(target=treasury_system)
    sender.start()
    assert poll(lambda: len(acked) >= BATCHES // 4, timeout=60)
    met = len(failures)
    stack.processes.kill("payments")
    # Down until the treasury has met the outage (or had nothing left to send, which the check below reports).
    assert poll(lambda: len(failures) > met or not sender.is_alive(), timeout=60)
    stack.processes.start("payments")
    stack.processes.wait_ready(["payments"])
    sender.join(timeout=180)
    assert not sender.is_alive() and sorted(acked) == list(range(BATCHES))
    assert failures, "the kill came after the last batch: nothing was tested"
    # A batch whose answer was lost in the kill comes back as duplicates, never as conflicts or new records.
    assert all(r["accepted"] + r["duplicates"] == PER_BATCH and not r["conflicts"] for r in acked.values())
    counts = asyncio.run(recorded_counts(servers.database_url, f"payment-{tag}-"))
    assert len(counts) == BATCHES * PER_BATCH and set(counts.values()) == {1}
    with stack.client() as c:
        assert poll(lambda: c.get(f"/indicators/{indicator}", headers=admin).json()["balance"]["paid"]
                    == f"{BATCHES * PER_BATCH}.00", timeout=60)
