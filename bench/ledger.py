"""Benchmark: indicator import and master-ledger reads, next to raw PostgreSQL COPY in the same run.

    python -m bench.ledger [--rows 100000] [--indicators 10000] [--payments 1000000] [--days 30] [--explain]
    python -m bench.ledger --imports [--rows 100000]      # the import figures alone

1. Import: a CSV of `--rows` indicators (Chinese headers) through `POST /api/v1/indicators/import`
   at the gateway; rows/s next to COPY of the same rows into a plain table; and the longest the
   import kept a transaction open (every service's event feed, alert streams included, waits that long).
2. Reads: `--indicators` indicators of their own fiscal year, imported the same way, with
   `--payments` payments written straight into the ledger's payment read models by COPY (the
   read path is what is measured; the payment pipeline has its own benchmark), recorded over the last
   `--days` days; then the latency of `GET /api/v1/ledger` (first page, and a filtered page) and of `as_of`
   (now, and noon of a past day: a snapshot and the tail of that day), 20 calls each after one untimed, once the
   other services have digested the imports.
3. `--explain`: every statement the ledger's read path runs for those pages, with EXPLAIN (ANALYZE, BUFFERS).
"""

import argparse
import asyncio
import csv
import io
import statistics
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg
import httpx
from sqlalchemy import event

from backbone.db import create_engine
from backbone.identity import Principal
from services.ledger import ledger_view

from backbone.db import asyncpg_dsn
from bench.stack import admin_headers, bench_stack, copy_baseline, percentile, print_table

HEADER = ["指标文件号", "资金名称", "资金性质", "支出功能分类科目", "政府支出经济分类科目", "预算项目", "金额（元）",
          "预算年度", "指标来源", "发文日期", "接收日期", "主管处室", "单位", "扶贫资金标识"]
UNITS = ["220102", "220103", "220104", "220105", "220106", "220112", "220113"]


def indicator_rows(n: int, year: int) -> list[list[str]]:
    return [[f"长财农指〔{year}〕{i}号", "衔接推进乡村振兴补助资金", "general_budget", "2130505", "50901",
             f"项目{i % 50}", f"{1000 + i % 997}.{i % 100:02d}", str(year), "central", f"{year}-02-10",
             f"{year}-02-12", "agriculture", UNITS[i % len(UNITS)], "是"] for i in range(n)]


def csv_bytes(rows: list[list[str]]) -> bytes:
    text = io.StringIO(newline="")
    csv.writer(text).writerows([HEADER, *rows])
    return text.getvalue().encode("utf-8")


async def longest_open_transaction(db_url: str, stop: asyncio.Event) -> float:
    """The age of the oldest transaction of the ledger service's connections, sampled every 10 ms until `stop`:
    how long the import held `read_all`'s horizon (below the oldest open transaction) at most. Other services'
    transactions (alerting applying the new indicators) hold it too, but they are not the import's."""
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    longest = 0.0
    try:
        while not stop.is_set():
            age = await conn.fetchval(
                "SELECT coalesce(max(extract(epoch FROM clock_timestamp() - xact_start)), 0)::float8 "
                "FROM pg_stat_activity WHERE application_name = 'fundwatch-ledger' AND state <> 'idle'")
            longest = max(longest, age)
            await asyncio.sleep(0.01)
        return longest
    finally:
        await conn.close()


async def import_file(client: httpx.AsyncClient, headers: dict[str, str], data: bytes) -> tuple[float, dict]:
    t0 = time.perf_counter()
    r = await client.post("/indicators/import", headers=headers, files={"file": ("指标.csv", data, "text/csv")})
    elapsed = time.perf_counter() - t0
    assert r.status_code == 200, r.text[:500]
    return elapsed, r.json()


async def seed_payments(db_url: str, indicator_ids: list[str], n: int, days: int) -> float:
    """COPY n payments into the ledger's payment read models, spread over the indicators and, in the order they
    were recorded, over the last `days` days; the indicators' registrations are moved back before the first of
    them (read model and events alike), so that a past ledger holds them."""
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        back = timedelta(days=days + 1)
        await conn.execute("UPDATE ledger.indicators SET registered_at = registered_at - $2::interval "
                           "WHERE indicator_id = ANY($1)", indicator_ids, back)
        # The event store refuses changes (a trigger); this database is the bench's own, made for this run.
        await conn.execute("SET session_replication_role = replica")
        await conn.execute("UPDATE ledger.events SET occurred_at = occurred_at - $2::interval "
                           "WHERE stream_id = ANY($1)", [f"indicator-{i}" for i in indicator_ids], back)
        await conn.execute("RESET session_replication_role")
        now = datetime.now(UTC)
        start, step = now - timedelta(days=days), timedelta(days=days) / n
        t0 = time.perf_counter()
        await conn.copy_records_to_table(
            "indicator_payments", schema_name="ledger", columns=["payment_id", "indicator_id", "amount", "paid_at",
                                                                 "recorded_at"],
            records=((f"bench-{i}", indicator_ids[i % len(indicator_ids)], Decimal("0.50"), start + i * step,
                      start + i * step) for i in range(n)))
        elapsed = time.perf_counter() - t0
        await conn.execute("""
            INSERT INTO ledger.indicator_spending (indicator_id, paid, refunded, payments)
            SELECT indicator_id, sum(amount), 0, count(*) FROM ledger.indicator_payments
            WHERE payment_id LIKE 'bench-%' GROUP BY indicator_id
            ON CONFLICT (indicator_id) DO UPDATE SET paid = excluded.paid, payments = excluded.payments""")
        # What the projection keeps for each fact, as migration ledger_0007 fills it from the facts already there.
        await conn.execute("""
            INSERT INTO ledger.indicator_spending_days (indicator_id, day, paid, refunded)
            SELECT indicator_id, day, sum(paid) OVER (PARTITION BY indicator_id ORDER BY day), 0
            FROM (SELECT indicator_id, (recorded_at AT TIME ZONE 'Asia/Shanghai')::date AS day, sum(amount) AS paid
                  FROM ledger.indicator_payments WHERE payment_id LIKE 'bench-%' GROUP BY 1, 2) days""")
        await conn.execute("ANALYZE ledger.indicator_payments; ANALYZE ledger.indicators; "
                           "ANALYZE ledger.indicator_spending_days")
        return elapsed
    finally:
        await conn.close()


async def digested(db_url: str) -> float:
    """Wait until alerting, performance and sync have learned every indicator the ledger holds, so that the reads
    are timed on a machine no longer digesting the imports (on 2 cores that digestion doubled the first page's
    time); returns the seconds waited."""
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    t0 = time.perf_counter()
    try:
        total = await conn.fetchval("SELECT count(*) FROM ledger.indicators")
        while await conn.fetchval("""
                SELECT least((SELECT count(*) FROM alerting.indicator_balances WHERE amount IS NOT NULL),
                             (SELECT count(*) FROM performance.indicators), (SELECT count(*) FROM sync.indicators))
                """) < total:
            await asyncio.sleep(1)
        return time.perf_counter() - t0
    finally:
        await conn.close()


async def latencies(client: httpx.AsyncClient, headers: dict[str, str], params: dict[str, str], calls: int = 20
                    ) -> list[float]:
    """`calls` timed reads after one untimed (the first of a kind plans its statements on a fresh connection)."""
    assert (await client.get("/ledger", params=params, headers=headers)).status_code == 200
    out = []
    for _ in range(calls):
        t0 = time.perf_counter()
        r = await client.get("/ledger", params=params, headers=headers)
        out.append(time.perf_counter() - t0)
        assert r.status_code == 200, r.text[:300]
    return out


async def explain(db_url: str, queries: dict[str, dict[str, str]]) -> None:
    """Print every statement the ledger's read path runs for each query, with its plan as executed."""
    engine = create_engine(db_url, pool_size=1, name="bench-explain")
    seen: list[tuple[str, object]] = []
    event.listen(engine.sync_engine, "before_cursor_execute",
                 lambda _c, _cur, statement, parameters, _ctx, _many: seen.append((statement, parameters)))
    admin = Principal(subject="bench", roles=["treasury"])
    try:
        for name, params in queries.items():
            filters = {k: int(v) if k == "fiscal_year" else v for k, v in params.items()
                       if k in ledger_view.FILTERS}
            sort = params.get("sort", "-registered_at")
            seen.clear()
            async with engine.connect() as conn:
                rows = ledger_view.indicators
                if "as_of" in params:
                    rows = await ledger_view.build_past(conn, filters, datetime.fromisoformat(params["as_of"]))
                await ledger_view.ledger_page(conn, admin, filters, sort, None, int(params.get("limit", 100)), rows)
                await ledger_view.ledger_totals(conn, admin, filters, None, rows)
                statements = list(seen)
                for statement, parameters in statements:
                    if statement.lstrip().startswith("CREATE"):
                        continue  # the past ledger's table, made once per read
                    # EXPLAIN ANALYZE runs the statement: the past ledger's INSERT would fill its table twice.
                    savepoint = await conn.begin_nested()
                    plan = await conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters)
                    await savepoint.rollback()
                    print(f"\n--- {name}\n{statement}\n" + "\n".join(r[0] for r in plan))
    finally:
        await engine.dispose()


async def timed_import(client: httpx.AsyncClient, admin: dict[str, str], db_url: str, big: list[list[str]]
                       ) -> tuple[float, float, float]:
    """Seconds of the import through the gateway, the longest transaction it held open, and COPY of its rows."""
    stop = asyncio.Event()
    probe = asyncio.create_task(longest_open_transaction(db_url, stop))
    import_s, _ = await import_file(client, admin, csv_bytes(big))
    stop.set()
    return import_s, await probe, await copy_baseline(db_url, big)


async def imports_only(gateway: str, db_url: str, rows: int) -> list[tuple[str, float, str]]:
    """The import figures alone (`--imports`): no reads, no payments to seed."""
    async with httpx.AsyncClient(base_url=f"{gateway}/api/v1", timeout=600) as client:
        admin = await admin_headers(client)
        import_s, held_s, copy_s = await timed_import(client, admin, db_url, indicator_rows(rows, 2030))
    return [
        (f"raw PostgreSQL COPY of {rows:,} rows, rows/s (baseline)", rows / copy_s, ""),
        (f"import {rows:,}-row CSV through the gateway, rows/s", rows / import_s, f"{copy_s / import_s:.3f}× COPY"),
        ("longest open transaction of the ledger during that import, s", held_s, "event feeds wait this long"),
    ]


async def run(gateway: str, db_url: str, rows: int, indicators: int, payments: int, days: int,
              show_plans: bool) -> list[tuple[str, float, str]]:
    async with httpx.AsyncClient(base_url=f"{gateway}/api/v1", timeout=600) as client:
        admin = await admin_headers(client)
        import_s, held_s, copy_s = await timed_import(client, admin, db_url, indicator_rows(rows, 2030))
        read_s, read = await import_file(client, admin, csv_bytes(indicator_rows(indicators, 2031)))
        seed_s = await seed_payments(db_url, read["ids"], payments, days)
        queries = {
            "first page": {"fiscal_year": "2031", "limit": "100"},
            "filtered page": {"fiscal_year": "2031", "org_unit": "220102", "sort": "-available", "limit": "100"},
            "as_of now": {"fiscal_year": "2031", "as_of": datetime.now(UTC).isoformat(), "limit": "100"},
            # Noon in Beijing of a day in the middle of the payments: half that day's payments are its tail.
            "as_of a past noon": {"fiscal_year": "2031", "limit": "100", "as_of": (datetime.now(UTC) - timedelta(
                days=days // 2)).replace(hour=4, minute=0, second=0, microsecond=0).isoformat()},
        }
        waited = await digested(db_url)
        if show_plans:
            await explain(db_url, queries)
        timed = {name: await latencies(client, admin, params) for name, params in queries.items()}
    ms = lambda xs: f"{statistics.median(xs) * 1000:,.0f} / {percentile(xs, 0.99) * 1000:,.0f}"  # noqa: E731
    return [
        (f"raw PostgreSQL COPY of {rows:,} rows, rows/s (baseline)", rows / copy_s, ""),
        (f"import {rows:,}-row CSV through the gateway, rows/s", rows / import_s, f"{copy_s / import_s:.3f}× COPY"),
        ("longest open transaction of the ledger during that import, s", held_s, "event feeds wait this long"),
        (f"import {indicators:,}-row CSV, rows/s", indicators / read_s, ""),
        (f"COPY of {payments:,} payment facts (seeding), rows/s", payments / seed_s, ""),
        ("waited for the consumers to digest the imports, s", waited, "before the reads"),
        (f"GET /ledger year of {indicators:,} indicators, p50 / p99 ms", ms(timed["first page"]), "20 calls"),
        ("GET /ledger + org_unit, sort -available, p50 / p99 ms", ms(timed["filtered page"]), "20 calls"),
        ("GET /ledger as_of now, p50 / p99 ms", ms(timed["as_of now"]), "20 calls"),
        (f"GET /ledger as_of noon {days // 2} days ago, p50 / p99 ms", ms(timed["as_of a past noon"]), "20 calls"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--indicators", type=int, default=10_000)
    parser.add_argument("--payments", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30, help="the payments were recorded over this many days")
    parser.add_argument("--explain", action="store_true", help="print the read path's query plans")
    parser.add_argument("--imports", action="store_true", help="the import figures alone, without the reads")
    args = parser.parse_args()
    with bench_stack() as stack:
        results = asyncio.run(imports_only(stack.gateway, stack.database_url, args.rows) if args.imports else
                              run(stack.gateway, stack.database_url, args.rows, args.indicators, args.payments,
                                  args.days, args.explain))
    print_table("FundWatch ledger: import and reads (whole stack on this machine)", results, "note")


if __name__ == "__main__":
    main()
