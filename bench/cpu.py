"""CPU time of the stack's processes by role: where a run's cores went.

Every process on the machine is sorted by its command line into the service it runs (gateway, ledger, payments,
performance, alerting, sync), PostgreSQL (the postmaster and every backend), the broker, or this bench itself; the
rest is "other" (the machine's other work). CPU seconds are user + system time; a backend that exits during the run
takes its time with it, so PostgreSQL's share is a floor.
"""

import os
import time
from dataclasses import dataclass

import psutil

SERVICES = ("gateway", "ledger", "payments", "performance", "alerting", "sync")


def role(cmdline: list[str], pid: int) -> str:
    if pid == os.getpid():
        return "bench"
    line = " ".join(cmdline)
    if "postgres" in (cmdline[0] if cmdline else "") or line.startswith("postgres:"):
        return "postgresql"
    if "tansu" in line:
        return "broker"
    for name in SERVICES:
        if f"{name}.app:app" in line or f"services.{name}." in line:
            return name
    return "other"


def cpu_by_role() -> dict[str, float]:
    procs = {p.info["pid"]: p.info for p in psutil.process_iter(["pid", "ppid", "cmdline", "cpu_times"])}
    roles = {pid: role(info["cmdline"] or [], pid) for pid, info in procs.items()}
    seconds: dict[str, float] = {}
    for pid, info in procs.items():
        if info["cpu_times"] is None:
            continue
        key = roles[pid]
        if key == "other":  # a worker process (the registry reader) counts for the service that started it
            key = roles.get(info["ppid"], "other")
        seconds[key] = seconds.get(key, 0.0) + info["cpu_times"].user + info["cpu_times"].system
    return seconds


@dataclass
class CpuWatch:
    """CPU seconds each role spent between `start` and `stop`, and the wall time between them."""

    before: dict[str, float] | None = None
    spent: dict[str, float] | None = None
    started: float = 0.0
    wall: float = 0.0

    def start(self) -> None:
        self.before, self.started = cpu_by_role(), time.perf_counter()

    def stop(self) -> None:
        after = cpu_by_role()
        self.wall = time.perf_counter() - self.started
        assert self.before is not None
        self.spent = {k: after.get(k, 0.0) - self.before.get(k, 0.0) for k in after}

    def rows(self, units: int, unit: str) -> list[tuple[str, object, str]]:
        """Rows for `print_table`: each role's CPU ms per `unit` and its share of the machine's cores."""
        assert self.spent is not None
        cores = (os.cpu_count() or 1) * self.wall
        ordered = sorted(((k, v) for k, v in self.spent.items() if v > 0.005), key=lambda kv: -kv[1])
        rows: list[tuple[str, object, str]] = [
            (f"  CPU ms per {unit}: {name}", f"{v * 1000 / units:.3f}", f"{v / cores:.0%} of the cores")
            for name, v in ordered]
        total = sum(v for k, v in ordered if k not in ("other",))
        rows.append((f"  CPU ms per {unit}: the stack and the bench together", f"{total * 1000 / units:.3f}",
                     f"{total / cores:.0%} of {os.cpu_count()} cores over {self.wall:.1f} s"))
        return rows
