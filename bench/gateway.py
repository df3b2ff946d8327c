"""Benchmark: what the gateway costs a request — sign-in, session check, access table, rate limit,
audit trail, proxy — next to the same request sent straight to the service in the same run.

    make bench                      # or: python -m bench.gateway --requests 2000 --concurrency 8

Reads: GET /alerts?limit=1 by a signed-in person (a session looked up per request). Writes:
POST /indicators, each one audited. The baseline sends the same requests to the service with a
forwarded identity, as the gateway would. Sign-in is argon2 by design: its rate is shown alone.
"""

import argparse
import asyncio
import statistics
import time

import httpx

from backbone.identity import IDENTITY_HEADER, Principal, audience_of, issue_internal_token
from backbone.settings import Settings
from bench.stack import admin_headers, bench_stack, indicator_body, percentile, print_table


async def timed(client: httpx.AsyncClient, n: int, concurrency: int, call) -> dict:
    """n calls, `concurrency` at a time: throughput and latency quantiles (ms)."""
    latencies: list[float] = []
    queue = iter(range(n))

    async def worker() -> None:
        for i in queue:
            started = time.perf_counter()
            response = await call(client, i)
            latencies.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {"rate": n / elapsed, "p50": statistics.median(latencies), "p99": percentile(latencies, 0.99)}


async def run(gateway: str, alerting: str, ledger: str, n: int, concurrency: int) -> list[tuple[str, dict]]:
    settings = Settings()
    credentials = {"username": settings.admin_user, "password": settings.admin_password.get_secret_value()}
    admin = Principal(subject=settings.admin_user, roles=["admin"], org_unit="220100")

    def forwarded() -> dict[str, str]:
        """The identity the gateway forwards, signed per request as the gateway does (it lives two minutes)."""
        return {IDENTITY_HEADER: issue_internal_token(admin, settings.identity_private_key.get_secret_value(),
                                                      [audience_of("alerting"), audience_of("ledger")])}

    async with httpx.AsyncClient(timeout=60) as c:
        person = await admin_headers(c, f"{gateway}/api/v1")
        rows = [
            ("read via gateway", await timed(c, n, concurrency, lambda cl, i: cl.get(
                f"{gateway}/api/v1/alerts", params={"limit": 1}, headers=person))),
            ("read straight to alerting (baseline)", await timed(c, n, concurrency, lambda cl, i: cl.get(
                f"{alerting}/api/v1/alerts", params={"limit": 1}, headers=forwarded()))),
            ("write via gateway (audited)", await timed(c, n // 4, concurrency, lambda cl, i: cl.post(
                f"{gateway}/api/v1/indicators", json=indicator_body(i, budget_project="bench-gateway"), headers=person))),
            ("write straight to ledger (baseline)", await timed(c, n // 4, concurrency, lambda cl, i: cl.post(
                f"{ledger}/api/v1/indicators", json=indicator_body(i, budget_project="bench-gateway"), headers=forwarded()))),
            ("sign-in (argon2)", await timed(c, 40, 2, lambda cl, i: cl.post(
                f"{gateway}/api/v1/auth/token", json=credentials))),
        ]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    with bench_stack() as stack:
        rows = asyncio.run(run(stack.gateway, stack.processes.url("alerting"), stack.processes.url("ledger"),
                               args.requests, args.concurrency))
    base = {"read": rows[1][1]["rate"], "write": rows[3][1]["rate"]}
    table: list[tuple[str, object, str]] = []
    for name, r in rows:
        kind = name.split()[0]
        ratio = f"{r['rate'] / base[kind]:.2f}× direct" if kind in base and "baseline" not in name else ""
        table += [(f"{name}, req/s", r["rate"], ratio),
                  ("  latency p50 / p99, ms", f"{r['p50']:,.1f} / {r['p99']:,.1f}", "")]
    print_table(f"FundWatch gateway: {args.requests} reads, {args.requests // 4} writes, {args.concurrency} at a time",
                table)

if __name__ == "__main__":
    main()
