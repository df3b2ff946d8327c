"""Untrusted work runs in a worker with a memory limit and a deadline: breaking either ends the worker, and the
caller hears which, instead of the service running out of memory or time."""

import os
import time
from pathlib import Path

import pytest

from backbone.limited import LimitBroken, LimitedWorker
from tests.support.waiting import poll


def allocate(mib: int) -> int:
    return len(bytearray(mib * 2**20))


def linger(seconds: float) -> str:
    time.sleep(seconds)
    return "done"


async def test_work_within_the_limits_answers_and_the_worker_serves_several_calls():
    async with LimitedWorker(memory_bytes=512 * 2**20, seconds=60) as worker:
        assert await worker.call(allocate, 16) == 16 * 2**20
        assert await worker.call(linger, 0) == "done"


async def test_work_beyond_the_memory_limit_is_refused_as_memory():
    async with LimitedWorker(memory_bytes=256 * 2**20, seconds=60) as worker:
        with pytest.raises(LimitBroken) as broken:
            await worker.call(allocate, 1024)
    assert broken.value.what == "memory" and "256 MiB" in str(broken.value)


def alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:
        return "\nState:\tZ" not in status.read_text()
    except (FileNotFoundError, ProcessLookupError):  # gone before the open, or between the open and the read
        return False


async def test_work_past_the_deadline_is_refused_as_time_and_the_worker_is_killed():
    async with LimitedWorker(memory_bytes=512 * 2**20, seconds=2) as worker:
        pid = await worker.call(os.getpid)
        with pytest.raises(LimitBroken) as broken:
            await worker.call(linger, 3600)
    assert broken.value.what == "time"
    # A signal is delivered, not awaited.
    assert await poll(lambda: not alive(pid), interval=0.05), "the lingering worker was killed, not left to run"
