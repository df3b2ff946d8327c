"""A consumer that applies nothing for a whole interval while a partition it holds is behind its end starts
over, by the numbers of its own fetches; one that applies something, or has nothing waiting, never does."""

import asyncio
from types import SimpleNamespace

import pytest
from aiokafka import TopicPartition

from backbone.consumer import ConsumerRunner, ConsumerStalled
from sqlalchemy import MetaData

from backbone.tables import plumbing_tables


def runner(stall_seconds: float = 5.0) -> ConsumerRunner:
    r = ConsumerRunner(name="ledger", topics=("payments",), handlers={}, engine=None,  # type: ignore[arg-type]
                       tables=plumbing_tables(MetaData(schema="ledger")), bootstrap="", producer=None,  # type: ignore[arg-type]
                       stall_seconds=stall_seconds)
    r.consumer = SimpleNamespace(assignment=lambda: {TopicPartition("payments", 0), TopicPartition("payments", 1)})
    return r


def test_a_partition_behind_that_applies_nothing_for_an_interval_starts_the_consumer_over():
    r = runner()
    r.ends = {("payments", 0): 5000, ("payments", 1): 800}
    r.applied = {("payments", 0): 1460, ("payments", 1): 800}
    r._check_progress(100.0)
    r._check_progress(104.9)
    with pytest.raises(ConsumerStalled, match=r"payments/0 \(3540 behind\)") as stalled:
        r._check_progress(105.0)
    assert stalled.value.held_elsewhere is False


def test_a_consumer_that_applies_or_has_nothing_waiting_is_left_alone():
    r = runner()
    r.ends = {("payments", 0): 5000, ("payments", 1): 800}
    r.applied = {("payments", 0): 1000, ("payments", 1): 700}
    for second in range(0, 60, 2):
        r.applied[("payments", 1)] += 1  # partition 0 waits while 1 is applied: slow, not stuck
        r._check_progress(float(second))
    r.applied = dict(r.ends)
    for second in range(60, 120, 2):
        r._check_progress(float(second))


async def test_an_attempt_that_stops_coming_round_is_cancelled_and_named():
    r = runner()
    r.hang_seconds = 1.5
    never = asyncio.Event()

    async def stuck_in_a_call_that_never_answers():
        await never.wait()

    attempt = asyncio.create_task(stuck_in_a_call_that_never_answers())
    with pytest.raises(ConsumerStalled, match="did not come round .*stuck_in_a_call_that_never_answers"):
        await r._watch(attempt)
    attempt.cancel()


async def test_an_attempt_that_comes_round_is_left_to_run_and_its_failure_passes_through():
    r = runner()
    r.hang_seconds = 1.5

    async def beating_then_failing():
        for _ in range(30):
            r._beat = asyncio.get_running_loop().time()
            await asyncio.sleep(0.1)
        raise ConnectionError("broker gone")

    with pytest.raises(ConnectionError, match="broker gone"):
        await r._watch(asyncio.create_task(beating_then_failing()))
