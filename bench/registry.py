"""Benchmark: registry import (建档立卡) next to raw PostgreSQL COPY of the same rows, in the same run.

    python -m bench.registry [--rows 1000000] [--runs 1]

1. Baseline: COPY of the file's rows (eight text columns) into a plain table.
2. Reading alone: the file read, checked and protected in this process (ID checksum, blind
   index, AES-GCM, masking, events validated and serialised) without a database: the part of an
   import that runs in its worker process.
3. Import: the CSV through `POST /api/v1/registry/poor-population/import` at the gateway, until
   the answer (every part durable in the event store, the registry read model and the vault).
4. The same file again (a duplicate: nothing new), and the payments process's peak memory.
"""

import argparse
import asyncio
import statistics
import time
from datetime import date

import httpx

from backbone.eventstore import PreparedEvent
from backbone.pii import PersonalData
from bench.stack import admin_headers, bench_stack, copy_baseline, print_table
from contracts.registry import PoorPopulationRecorded, RegistrySource
from contracts.values import Registry
from services.payments.registry.domain import ImportTally, read_registry_file
from tests.people import id_number, name

HEADER = "姓名,身份证号,户编号,区划,乡镇,行政村,贫困状态,年度"
DISTRICTS = ["南关区", "宽城区", "朝阳区", "二道区", "绿园区", "双阳区"]
STATUSES = ["未脱贫", "已脱贫", "返贫监测"]


def rows(n: int, offset: int = 0) -> list[list[str]]:
    return [[name(i), id_number(i), f"H{i // 4:07d}", DISTRICTS[i % 6], f"乡镇{i % 40}", f"村{i % 700}",
             STATUSES[i % 3], "2026"] for i in range(offset, offset + n)]


def csv_bytes(table: list[list[str]]) -> bytes:
    return ("\n".join([HEADER, *(",".join(r) for r in table)]) + "\n").encode()


def read_alone(data: bytes) -> float:
    personal = PersonalData(keys={"k1": b"k" * 32}, current="k1", index_key=b"bench")
    tally = ImportTally()
    t0 = time.perf_counter()
    for number, part in enumerate(read_registry_file(data, "p.csv", Registry.POOR_POPULATION, personal,
                                                     date.today(), tally), start=1):
        PreparedEvent.of(PoorPopulationRecorded(source=RegistrySource(kind="import", id="bench", part=number),
                                                persons=part.entries))
    elapsed = time.perf_counter() - t0
    assert tally.rejected == 0, tally.errors[:3]
    return elapsed


async def upload(client: httpx.AsyncClient, headers: dict[str, str], data: bytes) -> tuple[float, dict]:
    t0 = time.perf_counter()
    r = await client.post("/registry/poor-population/import", headers=headers,
                          files={"file": ("建档立卡.csv", data, "text/csv")})
    elapsed = time.perf_counter() - t0
    assert r.status_code == 200, r.text[:500]
    return elapsed, r.json()


def peak_rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


async def run(gateway: str, db_url: str, n: int, runs: int, payments_pid: int) -> list[tuple[str, float, str]]:
    async with httpx.AsyncClient(base_url=f"{gateway}/api/v1", timeout=900) as client:
        admin = await admin_headers(client)
        imports, copies, reads, duplicates = [], [], [], []
        for k in range(runs):
            # Each run its own people: a first import, not an update of the previous run's.
            table = rows(n, offset=k * n)
            data = csv_bytes(table)
            copies.append(await copy_baseline(db_url, table))
            reads.append(await asyncio.to_thread(read_alone, data))
            seconds, report = await upload(client, admin, data)
            assert report["accepted"] == n, report
            imports.append(seconds)
            again, report = await upload(client, admin, data)
            assert report["duplicate"], report
            duplicates.append(again)
        size_mib = len(data) / 2**20
    copy_s, read_s, import_s = (statistics.median(v) for v in (copies, reads, imports))
    return [
        ("file: rows / MiB", n, f"{size_mib:.0f} MiB"),
        ("raw COPY into a plain table, rows/s", n / copy_s, "baseline"),
        ("reading alone (worker: check, protect, events), rows/s", n / read_s, f"{copy_s / read_s:.2f}× COPY"),
        ("import through the gateway, rows/s", n / import_s, f"{copy_s / import_s:.3f}× COPY"),
        ("import through the gateway, seconds", import_s, f"median of {runs}"),
        ("the same file again (duplicate), seconds", statistics.median(duplicates), "nothing new"),
        ("payments process peak RSS, MiB", peak_rss_mib(payments_pid), ""),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    with bench_stack() as stack:
        results = asyncio.run(run(stack.gateway, stack.database_url, args.rows, args.runs,
                                  stack.processes.procs["payments"].pid))
    print_table("FundWatch registry import (建档立卡, whole stack on this machine)", results, "note")


if __name__ == "__main__":
    main()
