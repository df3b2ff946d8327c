"""The platform for a benchmark: embedded servers (unless DATABASE_URL / KAFKA_BOOTSTRAP are set)
and every service as a process; stopped again even on SIGTERM."""

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

from backbone.db import asyncpg_dsn
from backbone.settings import Settings
from deploy.local.processes import APPS, ROOT, ServiceProcesses, service_env
from deploy.local.servers import (
    EmbeddedBroker,
    EmbeddedPostgres,
    create_database,
    free_port,
    free_ports,
)
from deploy.migrate import prepare

DATA = ROOT / ".data" / "bench"


@dataclass
class BenchStack:
    database_url: str
    kafka_bootstrap: str
    processes: ServiceProcesses
    log_dir: Path

    @property
    def gateway(self) -> str:
        return self.processes.url("gateway")


def _interrupted(*_: object) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def bench_stack() -> Iterator[BenchStack]:
    """A fresh `fundwatch_bench` database, a broker and all services, for the duration of the block."""
    signal.signal(signal.SIGTERM, _interrupted)
    postgres = broker = None
    db_url, kafka = os.environ.get("DATABASE_URL"), os.environ.get("KAFKA_BOOTSTRAP")
    if not db_url:
        postgres = EmbeddedPostgres(DATA / "postgres")
        db_url = asyncio.run(create_database(postgres.start(), "fundwatch_bench", fresh=True))
    if not kafka:
        broker = EmbeddedBroker(free_port(), DATA / "broker.log")
        kafka = broker.start()
    ports = dict(zip(APPS, free_ports(len(APPS)), strict=True))
    procs = ServiceProcesses(env=service_env(database_url=db_url, kafka_bootstrap=kafka, ports=ports,
                                             extra={"FUNDWATCH_DOCUMENT_DIR": str(DATA / "documents"),
                                                    # Counted as ever, never reached: a benchmark is one busy
                                                    # person.
                                                    "FUNDWATCH_RATE_LIMIT_PERSON": "1000000/minute",
                                                    "FUNDWATCH_RATE_LIMIT_SIGN_IN": "1000000/minute"}),
                             log_dir=DATA / "logs", ports=ports)
    try:
        asyncio.run(prepare(Settings(_env_file=None, DATABASE_URL=db_url, KAFKA_BOOTSTRAP=kafka)))  # type: ignore[call-arg]
        procs.start_all()
        procs.wait_ready()
        yield BenchStack(db_url, kafka, procs, DATA / "logs")
    finally:
        procs.stop_all()
        if broker:
            broker.stop()
        if postgres:
            postgres.stop()


async def admin_headers(client: httpx.AsyncClient, api: str = "") -> dict[str, str]:
    """The bootstrap administrator signed in at the gateway (`api`: its /api/v1 URL, if the client has no base)."""
    s = Settings()
    r = await client.post(f"{api}/auth/token", json={"username": s.admin_user,
                                                     "password": s.admin_password.get_secret_value()})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def indicator_body(n: int | str = "bench", amount: str = "1000.00", **overrides: object) -> dict:
    """A central indicator of 2026 for 南关区 and the agriculture division."""
    return {"doc_no": f"bench-{n}", "fund_name": "bench", "fund_nature": "general_budget", "function_code": "2130504",
            "economic_code": "50901", "budget_project": "bench", "amount": amount, "fiscal_year": 2026,
            "level": "central", "owner_division": "agriculture", "org_unit": "220102"} | overrides


async def copy_baseline(database_url: str, rows: list[list[str]]) -> float:
    """Seconds raw PostgreSQL COPY takes for the same rows as text, into a temporary table: the baseline."""
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await conn.execute("CREATE TEMP TABLE bench_copy (" + ", ".join(f"c{i} text" for i in range(len(rows[0])))
                           + ")")
        t0 = time.perf_counter()
        await conn.copy_records_to_table("bench_copy", records=[tuple(r) for r in rows])
        return time.perf_counter() - t0
    finally:
        await conn.close()


def print_table(title: str, rows: list[tuple[str, object, str]], third: str = "vs baseline") -> None:
    """A benchmark's results as a Markdown table: measure, value (numbers with thousands separators), and a
    ratio to its baseline or a note."""
    print(f"\n{title}\n")
    print(f"| {'measure':<58} | {'value':>16} | {third:>14} |")
    print(f"|{'-' * 60}|{'-' * 18}|{'-' * 16}|")
    for name, value, note in rows:
        shown = ("" if value is None else value if isinstance(value, str)
                 else f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}")  # type: ignore[arg-type]
        print(f"| {name:<58} | {shown:>16} | {note:>14} |")


def percentile(values: list[float], q: float) -> float:
    """The q-quantile of values (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def alerting_knows(db_url: str, indicator_ids: list[str]) -> None:
    """Wait until alerting has learned these indicators: a payment ahead of its indicator waits for it and is judged
    when the indicator comes, another path than the benches measure (and alerting's group may still be forming
    after a restart)."""
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        while await conn.fetchval("SELECT count(*) FROM alerting.indicator_balances WHERE indicator_id = ANY($1) "
                                  "AND amount IS NOT NULL", indicator_ids) < len(indicator_ids):
            await asyncio.sleep(0.2)
    finally:
        await conn.close()
