"""A consumer whose loop stops coming round (a call that never answers) is cancelled and started over, naming
where it hung; one that comes round is left to run."""

import asyncio
from types import SimpleNamespace

import pytest
from aiokafka import TopicPartition

from backbone.consumer import ConsumerRunner, ConsumerStalled
from backbone.service import _supervise
from tests.support.waiting import poll
from sqlalchemy import MetaData

from backbone.tables import plumbing_tables


def runner(stall_seconds: float = 5.0) -> ConsumerRunner:
    r = ConsumerRunner(name="ledger", topics=("payments",), handlers={}, engine=None,  # type: ignore[arg-type]
                       tables=plumbing_tables(MetaData(schema="ledger")), bootstrap="", producer=None,  # type: ignore[arg-type]
                       stall_seconds=stall_seconds)
    r.consumer = SimpleNamespace(assignment=lambda: {TopicPartition("payments", 0), TopicPartition("payments", 1)})
    return r


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


async def test_an_attempt_cancelled_from_inside_is_started_over_not_taken_for_the_runners_own_stop():
    calls = []

    async def runner_run():
        calls.append(1)
        if len(calls) == 1:
            raise asyncio.CancelledError  # a client library's own teardown, nobody cancelled the loop
        await asyncio.Event().wait()

    crashes: dict[str, float] = {}
    loop_task = _supervise(runner_run, "consumer:test", crashes)
    assert await poll(lambda: len(calls) == 2, timeout=10), "the runner was started again"
    assert "consumer:test" in crashes and not loop_task.done()
    loop_task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await loop_task
