"""Benchmark: payments through the gateway to alert state, next to raw baselines in the same run.

    make bench                      # or: python -m bench.payments_e2e --payments 20000 --batch 500

Every payment overdraws its indicator, so every payment raises one red light (then 5 % of them);
latency is measured from the moment its batch was sent to the moment its alert was written. The CPU
time each process of the stack spent from the first POST to the last alert, per payment, says where
the machine's cores went (`bench/cpu.py`). Baselines:
raw aiokafka produce+consume of the same number of JSON messages, and raw PostgreSQL COPY of
the same rows. Uses DATABASE_URL / KAFKA_BOOTSTRAP when set, else embedded servers.
"""

import argparse
import asyncio
import os
import statistics
import time
from datetime import UTC, datetime
from decimal import Decimal
from uuid import uuid4

import asyncpg
import httpx
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from backbone.db import asyncpg_dsn
from backbone.settings import Settings
from bench.cpu import CpuWatch
from bench.stack import DATA, admin_headers, alerting_knows, bench_stack, indicator_body, percentile, print_table


def payment(pid: str, indicator_id: str) -> dict:
    return {"payment_id": pid, "indicator_id": indicator_id, "payer_name": "南关区农业农村局",
            "payer_account": "0710001200000001", "amount": "10.00", "paid_at": "2026-03-01T10:00:00+08:00",
            "purpose": "产业发展补助", "settlement_method": "transfer", "payment_method": "direct",
            "payee_name": "南关区某农民专业合作社", "payee_account": "6222000011112222",
            "payee_type": "organization", "org_unit": "220102"}


async def through_the_platform(gateway: str, db_url: str, n: int, batch: int, concurrency: int,
                               overdraw_share: float) -> dict:
    """Post n payments; a share of them go to indicators of 1.00 (each overdraws: a red light),
    the rest to ample indicators (judged, no alert)."""
    settings = Settings()
    async with httpx.AsyncClient(base_url=f"{gateway}/api/v1", timeout=120) as c:
        admin = await admin_headers(c)
        treasury = {"X-Api-Key": settings.treasury_api_key.get_secret_value()}

        async def indicators(amount: str) -> list[str]:
            body = indicator_body(amount=amount)
            return [(await c.post("/indicators", json=body, headers=admin)).json()["id"] for _ in range(50)]

        tight, ample = await indicators("1.00"), await indicators("100000000.00")
        await alerting_knows(db_url, tight + ample)
        tag = uuid4().hex[:8]
        per_hundred = round(overdraw_share * 100)
        records = [payment(f"{tag}-{i}", (tight if i % 100 < per_hundred else ample)[i % 50]) for i in range(n)]
        expected_alerts = sum(1 for i in range(n) if i % 100 < per_hundred)
        batches = [records[i:i + batch] for i in range(0, n, batch)]
        sent_at: dict[str, float] = {}
        post_latency: list[float] = []
        queue: asyncio.Queue = asyncio.Queue()
        for b in batches:
            queue.put_nowait(b)

        async def poster() -> None:
            while not queue.empty():
                b = queue.get_nowait()
                t0 = time.time()
                for r in b:
                    sent_at[r["payment_id"]] = t0
                resp = await c.post("/payments/batch", json={"payments": b}, headers=treasury)
                assert resp.status_code == 200 and resp.json()["accepted"] == len(b), resp.text
                post_latency.append(time.time() - t0)

        cpu = CpuWatch()
        cpu.start()
        started = time.time()
        await asyncio.gather(*(poster() for _ in range(concurrency)))
        accepted_at = time.time()
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        # Every payment judged by alerting (its state committed), and every expected alert written.
        judged, progressed_at, finished = 0, time.time(), 0.0
        while True:
            now_judged = await conn.fetchval(
                "select count(*) from alerting.observed_payments where payment_id like $1", f"{tag}-%")
            alerts = await conn.fetchval("select count(*) from alerting.alerts where subject_id like $1", f"{tag}-%")
            if now_judged >= n and alerts >= expected_alerts:
                finished = time.time()
                cpu.stop()
                break
            if now_judged > judged:
                judged, progressed_at = now_judged, time.time()
            elif time.time() - progressed_at > 60:
                raise SystemExit(f"alerting made no progress for 60 s at {judged} of {n} payments; "
                                 f"see {DATA / 'logs'} and the dead letters")
            await asyncio.sleep(0.1)
        rows = await conn.fetch("select subject_id, raised_at from alerting.alerts where subject_id like $1",
                                f"{tag}-%")
    finally:
        await conn.close()
    latencies = [r["raised_at"].timestamp() - sent_at[r["subject_id"]] for r in rows]
    return {"alerts": len(rows), "expected_alerts": expected_alerts, "post_rate": n / (accepted_at - started),
            "e2e_rate": n / (finished - started), "p50": statistics.median(latencies),
            "p99": percentile(latencies, 0.99), "post_p50": statistics.median(post_latency),
            "post_p99": percentile(post_latency, 0.99), "cpu": cpu}


async def raw_kafka(bootstrap: str, n: int) -> dict:
    topic = f"bench-raw-{uuid4().hex[:6]}"
    body = orjson.dumps(payment("x" * 12, str(uuid4())))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False, linger_ms=5,
                                max_batch_size=256 * 1024)
    await producer.start()
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    try:
        await producer.send_and_wait(topic, b"warm-up")
        await consumer.start()
        t0 = time.time()
        futures = [await producer.send(topic, body, key=str(i).encode()) for i in range(n)]
        await asyncio.gather(*futures)
        produced = time.time()
        got = 0
        while got < n + 1:
            for records in (await consumer.getmany(timeout_ms=500, max_records=5000)).values():
                got += len(records)
        consumed = time.time()
    finally:
        await producer.stop()
        await consumer.stop()
    return {"produce_rate": n / (produced - t0), "e2e_rate": n / (consumed - t0)}


async def raw_copy(db_url: str, n: int) -> dict:
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        await conn.execute("create temp table bench_payments (payment_id text, indicator_id text, payer_name text,"
                           " payer_account text, amount numeric(18,2), paid_at timestamptz, purpose text,"
                           " settlement_method text, payment_method text, payee_name text, payee_account text,"
                           " payee_type text, org_unit text)")
        now = datetime.now(UTC)
        rows = [(f"p{i}", "ind", "南关区农业农村局", "0710001", Decimal("10.00"), now, "产业发展补助", "transfer",
                 "direct", "合作社", "6222000011112222", "organization", "220102") for i in range(n)]
        t0 = time.time()
        await conn.copy_records_to_table("bench_payments", records=rows)
        return {"rate": n / (time.time() - t0)}
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--payments", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--typical-share", type=float, default=0.05,
                        help="share of payments that overdraw in the typical scenario")
    args = parser.parse_args()
    with bench_stack() as stack:
        scenarios = {
            "every payment raises an alert": asyncio.run(through_the_platform(
                stack.gateway, stack.database_url, args.payments, args.batch, args.concurrency, 1.0)),
            f"{args.typical_share:.0%} of payments raise an alert": asyncio.run(through_the_platform(
                stack.gateway, stack.database_url, args.payments, args.batch, args.concurrency, args.typical_share)),
        }
        kafka_raw = asyncio.run(raw_kafka(stack.kafka_bootstrap, args.payments))
        copy_raw = asyncio.run(raw_copy(stack.database_url, args.payments))
    n = args.payments
    rows: list[tuple[str, object, str]] = [
        ("raw PostgreSQL COPY, rows/s (baseline)", copy_raw["rate"], ""),
        ("raw aiokafka produce, msgs/s (baseline)", kafka_raw["produce_rate"], ""),
        ("raw aiokafka produce+consume, msgs/s (baseline)", kafka_raw["e2e_rate"], ""),
    ]
    for name, r in scenarios.items():
        rows += [
            (f"[{name}]", None, ""),
            ("  POST /payments/batch accepted, payments/s", r["post_rate"],
             f"{r['post_rate'] / copy_raw['rate']:.4f}× COPY"),
            ("  end to end (POST → alert state committed), payments/s", r["e2e_rate"],
             f"{r['e2e_rate'] / kafka_raw['e2e_rate']:.4f}× kafka"),
            ("  batch POST latency p50 / p99, ms", f"{r['post_p50'] * 1000:,.0f} / {r['post_p99'] * 1000:,.0f}", ""),
            ("  payment → alert latency p50 / p99, ms", f"{r['p50'] * 1000:,.0f} / {r['p99'] * 1000:,.0f}", ""),
            ("  alerts raised / expected", f"{r['alerts']} / {r['expected_alerts']}", ""),
            *r["cpu"].rows(n, "payment"),
        ]
    print_table(f"FundWatch payments → alerts: {n} payments, batches of {args.batch}, {args.concurrency} posters, "
                f"{os.cpu_count()} cores", rows)


if __name__ == "__main__":
    main()
