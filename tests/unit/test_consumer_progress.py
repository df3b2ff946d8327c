"""A consumer whose loop stops coming round (a call that never answers) is cancelled and started over, naming
where it hung; one that comes round is left to run."""

import asyncio
from types import SimpleNamespace

import pytest
from aiokafka import TopicPartition

from backbone.consumer import ConsumerRunner, ConsumerStalled, Held, held_partition
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


@pytest.mark.parametrize(("position", "high", "idle", "verdict"), [
    # The embedded broker restarted empty after the consumer took its position from the old log.
    (5_000, 120, False, Held.FORGOTTEN),
    (5_000, 0, True, Held.FORGOTTEN),
    # Records wait past the position and nothing came for three intervals; or no fetch was ever answered.
    (100, 440, True, Held.STALLED),
    (100, None, True, Held.STALLED),
    # Caught up, or merely between fetches.
    (440, 440, True, Held.MOVING),
    (100, 440, False, Held.MOVING),
    (100, None, False, Held.MOVING),
])
def test_a_held_partition_is_judged_by_its_fetched_end_not_by_list_offsets(position, high, idle, verdict):
    assert held_partition(position, high, idle=idle) is verdict


async def test_a_position_past_the_end_of_a_broker_that_started_over_reads_the_partition_again():
    r = runner()
    held = TopicPartition("payments", 0)
    sought: list[TopicPartition] = []

    async def position(tp):
        return 5_000

    async def end_offsets(partitions):
        return {tp: 1 for tp in partitions}  # what the embedded broker's ListOffsets answers

    r.consumer = SimpleNamespace(assignment=lambda: {held}, partitions_for_topic=lambda topic: {0},
                                 end_offsets=end_offsets, position=position, highwater=lambda tp: 120,
                                 seek_to_beginning=sought.append)
    await r._check_stall(0.0)
    assert sought == [held]


async def test_one_partition_that_stops_moving_is_a_stall_while_the_others_flow():
    r = runner(stall_seconds=5.0)
    stuck, flowing = TopicPartition("payments", 3), TopicPartition("payments", 0)
    positions = {stuck: 6_500, flowing: 100}

    async def position(tp):
        return positions[tp]

    async def end_offsets(partitions):
        return {tp: 1 for tp in partitions}

    r.consumer = SimpleNamespace(assignment=lambda: {stuck, flowing}, partitions_for_topic=lambda topic: {0, 3},
                                 end_offsets=end_offsets, position=position, highwater=lambda tp: 11_520)
    for now in (0.0, 5.0, 10.0):
        positions[flowing] += 500
        await r._check_stall(now)
    positions[flowing] += 500
    with pytest.raises(ConsumerStalled, match=r"payments/3 at 6500 of 11520"):
        await r._check_stall(15.0)
