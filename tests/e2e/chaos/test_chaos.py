"""Chaos: under a steady load of payments through the gateway, kill -9 each service process in turn, then the
broker, then PostgreSQL. The platform comes back by itself (the local stack's supervisor), and afterwards every
acknowledged payment is recorded once, every expected alert is raised once, the ledger's balance equals the
payments, and the audit chain verifies."""

import asyncio
import threading
import time
from decimal import Decimal
from uuid import uuid4

import httpx
import pytest

from deploy.local.supervisor import Supervisor, stack_parts
from tests.e2e.chaos.conftest import FIGURES
from tests.e2e import db
from tests.e2e.conftest import indicator_body, payment_body
from tests.e2e.test_audit_trail import verify_command
from tests.support.waiting import poll

pytestmark = [pytest.mark.e2e, pytest.mark.chaos]
SERVICES = ("ledger", "payments", "performance", "alerting", "sync", "gateway")
PER_BATCH = 40
CASH_EVERY = 10  # every tenth payment is cash above the single limit: one yellow light each (ZC-003)
RECOVERY_SECONDS = 120
# After the broker restarted empty, every consumer reads again all that the outboxes kept (the whole test's
# payments, most on the one indicator's partition) while the other services do the same on two cores.
CATCH_UP_SECONDS = 300


class Treasury(threading.Thread):
    """The treasury payment system: batches in a steady stream, each sent again until it is answered."""

    def __init__(self, stack, indicator: str, tag: str) -> None:
        super().__init__(daemon=True)
        self.stack, self.indicator, self.tag = stack, indicator, tag
        self.acked: dict[str, Decimal] = {}
        self.cash: set[str] = set()
        self.refused: list[str] = []
        self.batches = 0
        self.stopping = threading.Event()

    def batch(self, n: int) -> list[dict]:
        payments = []
        for i in range(PER_BATCH):
            pid = f"{self.tag}-{n}-{i}"
            cash = i % CASH_EVERY == 0
            payments.append(payment_body(pid, self.indicator, "2000.00" if cash else "1.00",
                                         settlement_method="cash" if cash else "transfer"))
        return payments

    def run(self) -> None:
        headers = self.stack.treasury_headers()
        with httpx.Client(base_url=f"{self.stack.gateway}/api/v1", timeout=30) as client:
            n = 0
            while not self.stopping.is_set():
                batch = self.batch(n)
                while True:
                    try:
                        r = client.post("/payments/batch", json={"payments": batch}, headers=headers)
                        if r.status_code == 200:
                            assert r.json()["accepted"] + r.json()["duplicates"] == PER_BATCH, r.text
                            break
                        self.refused.append(str(r.status_code))
                    except httpx.TransportError as exc:
                        self.refused.append(type(exc).__name__)
                    # A batch without an answer is sent again after a pause, as the treasury would.
                    self.stopping.wait(0.3)
                for p in batch:
                    self.acked[p["payment_id"]] = Decimal(p["amount"])
                    if p["settlement_method"] == "cash":
                        self.cash.add(p["payment_id"])
                self.batches = n = n + 1
                self.stopping.wait(0.05)


def all_ready(stack) -> bool:
    """Every service answers /readyz with itself: its database, broker and loops are fine."""
    for name in SERVICES:
        try:
            r = httpx.get(f"{stack.processes.url(name)}/readyz", timeout=5)
        except httpx.HTTPError:
            return False
        if r.status_code != 200 or r.json().get("service") != name:
            return False
    return True


def readiness(stack, name: str) -> str:
    return httpx.get(f"{stack.processes.url(name)}/readyz", timeout=10).text


def not_ready(stack) -> dict[str, str]:
    """What each service that is not ready says of itself (for the message of a failed wait)."""
    found = {}
    for name in SERVICES:
        try:
            r = httpx.get(f"{stack.processes.url(name)}/readyz", timeout=5)
        except httpx.HTTPError as exc:
            found[name] = repr(exc)
            continue
        if r.status_code != 200:
            found[name] = r.text
    return found


async def recorded(database_url: str, tag: str) -> dict[str, int]:
    rows = await db.fetch(database_url, "SELECT stream_id, count(*) AS n FROM payments.events WHERE stream_id LIKE $1"
                          " AND event_type = 'payments.PaymentRecorded' GROUP BY stream_id", f"payment-{tag}-%")
    return {r["stream_id"].removeprefix("payment-"): r["n"] for r in rows}


async def cash_alerts(database_url: str, tag: str) -> list[str]:
    rows = await db.fetch(database_url, "SELECT subject_id FROM alerting.alerts WHERE rule_id = "
                          "'spending.cash_above_limit' AND subject_id LIKE $1", f"{tag}-%")
    return [r["subject_id"] for r in rows]


def test_killing_each_part_in_turn_under_load_loses_nothing_and_doubles_nothing(stack, servers, request):
    if servers.broker is None or servers.postgres is None:
        pytest.skip("the broker or PostgreSQL is external: the suite kills only the embedded ones")
    said: list[str] = []
    supervisor = Supervisor(stack_parts(stack.processes, servers.broker, servers.postgres), say=said.append)
    watching = threading.Event()

    def supervise() -> None:
        while not watching.wait(0.2):
            supervisor.check()

    admin = stack.admin_headers()
    with stack.client() as c:
        indicator = c.post("/indicators", json=indicator_body("100000000.00"), headers=admin).json()["id"]
    tag = f"chaos{uuid4().hex[:6]}"
    treasury = Treasury(stack, indicator, tag)
    keeper = threading.Thread(target=supervise, daemon=True)
    keeper.start()
    treasury.start()
    recoveries: dict[str, float] = {}
    try:
        for fault in (*SERVICES, "broker", "postgresql"):
            before = treasury.batches
            assert poll(lambda: treasury.batches >= before + 3, timeout=RECOVERY_SECONDS), \
                f"the load did not flow before killing {fault}"
            killed = time.monotonic()
            if fault == "broker":
                servers.broker.kill()
            elif fault == "postgresql":
                servers.postgres.kill()
            else:
                stack.processes.procs[fault].kill()
            assert poll(lambda: supervisor.restarts.get(fault, 0) == 1, timeout=RECOVERY_SECONDS), \
                f"{fault} was not started again: {said}"
            assert poll(lambda: all_ready(stack), timeout=RECOVERY_SECONDS), \
                f"not ready after {fault}: {not_ready(stack)}; {said}"
            recoveries[fault] = time.monotonic() - killed
        after = treasury.batches
        assert poll(lambda: treasury.batches >= after + 3, timeout=RECOVERY_SECONDS), "the load flows again"
    finally:
        treasury.stopping.set()
        treasury.join(timeout=60)
        watching.set()
        keeper.join(timeout=30)
    assert not treasury.is_alive()

    # Every acknowledged payment is recorded exactly once.
    counts = asyncio.run(recorded(servers.database_url, tag))
    lost = set(treasury.acked) - set(counts)
    doubled = {p for p, n in counts.items() if n > 1}
    assert not lost and not doubled and set(counts) == set(treasury.acked)
    # The ledger pays what was acknowledged; every cash payment has its one yellow light.
    total = sum(treasury.acked.values(), Decimal("0"))
    stopped = time.monotonic()
    with stack.client() as c:
        assert poll(lambda: Decimal(c.get(f"/indicators/{indicator}", headers=admin).json()["balance"]["paid"])
                    == total, timeout=CATCH_UP_SECONDS), \
            f"the ledger's balance equals the payments; its readiness: {readiness(stack, 'ledger')}; {said}"
    assert poll(lambda: sorted(asyncio.run(cash_alerts(servers.database_url, tag))) == sorted(treasury.cash),
                timeout=CATCH_UP_SECONDS), f"each expected alert raised once; {readiness(stack, 'alerting')}"
    caught_up = time.monotonic() - stopped
    alerted = asyncio.run(cash_alerts(servers.database_url, tag))
    assert len(alerted) == len(set(alerted)) == len(treasury.cash)
    # The audit chain holds across every crash.
    verified = verify_command(servers.database_url)
    assert verified.returncode == 0 and "intact" in verified.stdout, verified.stdout + verified.stderr

    request.config.stash[FIGURES] += [
        f"payments sent {len(treasury.acked)} in {treasury.batches} batches ({total} yuan), "
        f"{len(treasury.cash)} expected alerts",
        f"faults injected {len(recoveries)} (kill -9): lost 0, duplicated 0, alerts raised once each",
        f"answers that were not 200 while parts were down: {len(treasury.refused)} "
        f"({', '.join(sorted(set(treasury.refused)))})",
        f"the ledger and alerting caught up {caught_up:.0f}s after the load stopped",
        "time to recover (killed → every /readyz 200): "
        + ", ".join(f"{name} {seconds:.1f}s" for name, seconds in recoveries.items()),
        f"supervisor: {'; '.join(said)}",
    ]
