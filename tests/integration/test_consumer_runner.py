"""The consumer runner: effects applied once, poison and failing events dead-lettered, never blocking."""

import asyncio
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import RecordMetadata
from sqlalchemy import func, select

from backbone.bus import ensure_topics, to_message
from backbone.consumer import Batched, ConsumerRunner
from backbone.dead_letters import ReplayRefused, replay
from contracts.catalog import DEAD_LETTER_TOPIC
from contracts.envelope import EventEnvelope, EventMetadata
from tests.support.waiting import poll

pytestmark = pytest.mark.integration


def event(note: str, stream: str = "s-1", version: int = 1) -> EventEnvelope:
    return EventEnvelope(event_id=uuid4(), stream_id=stream, stream_type="thing", version=version,
                         event_type="test.NoteAdded", occurred_at=datetime.now(UTC),
                         metadata=EventMetadata(actor="tester", source="testkit"), payload={"note": note})


async def send(producer, topic: str, env: EventEnvelope) -> RecordMetadata:
    key, value, headers = to_message(env)
    return await producer.send_and_wait(topic, value=value, key=key, headers=headers)


def runner_for(kit, engine, producer, servers, handler) -> ConsumerRunner:
    return ConsumerRunner(name=f"test-{kit.schema}", topics=(kit.topic,), handlers={"test.NoteAdded": handler},
                          engine=engine, tables=kit.tables, bootstrap=servers.kafka_bootstrap, producer=producer,
                          max_attempts=2)


def recording(kit):
    async def handler(conn, env):
        if env.payload["note"].startswith("boom"):
            await conn.execute(kit.effects.insert().values(stream_id=env.stream_id, note="half-done"))
            raise RuntimeError("cannot apply " + env.payload["note"])
        await conn.execute(kit.effects.insert().values(stream_id=env.stream_id, note=env.payload["note"]))
    return handler


async def effect_notes(engine, kit) -> list[str]:
    async with engine.connect() as conn:
        return list((await conn.execute(select(kit.effects.c.note).order_by(kit.effects.c.id))).scalars())


def read_past(runner: ConsumerRunner, sent: list[RecordMetadata]) -> bool:
    """Whether the runner has committed batches past every one of these records: each was read and decided,
    applied or passed over as a repeat. What a test waits for before it looks for something *not* applied."""
    return all(runner.applied.get((r.topic, r.partition), 0) > r.offset for r in sent)


async def count(engine, table) -> int:
    async with engine.connect() as conn:
        return await conn.scalar(select(func.count()).select_from(table))


async def test_a_redelivered_event_changes_nothing(engine, kit, producer, servers):
    first = event("once")
    sent = [await send(producer, kit.topic, env) for env in (first, first, event("twice", "s-2"))]
    runner = runner_for(kit, engine, producer, servers, recording(kit))
    task = asyncio.create_task(runner.run())
    try:
        assert await poll(lambda: read_past(runner, sent)), "the runner did not read the repeat"
    finally:
        task.cancel()
    assert sorted(await effect_notes(engine, kit)) == ["once", "twice"]
    assert await count(engine, kit.tables.processed_events) == 2


async def test_a_second_runner_after_a_restart_does_not_apply_again(engine, kit, producer, servers):
    # Offsets are not trusted (the embedded broker forgets them): the tracking table decides.
    sent = [await send(producer, kit.topic, event("only-once"))]
    for attempt in range(2):
        runner = runner_for(kit, engine, producer, servers, recording(kit))
        # A group of its own each time: the second runner reads the event again, as after a broker that forgot
        # the group's offsets, and must pass it over.
        runner.group_id = f"{runner.name}.{attempt}"
        task = asyncio.create_task(runner.run())
        try:
            assert await poll(lambda: read_past(runner, sent)), f"runner {attempt + 1} did not read the event"
        finally:
            task.cancel()
    assert await effect_notes(engine, kit) == ["only-once"]


async def test_poison_and_failing_events_go_to_dead_letters_and_the_partition_moves_on(engine, kit, producer, servers):
    await ensure_topics(servers.settings(), (DEAD_LETTER_TOPIC,))
    await producer.send_and_wait(kit.topic, value=b"\x00 not an event", key=b"s-1")
    await send(producer, kit.topic, event("boom-1"))
    await send(producer, kit.topic, event("after", version=2))
    task = asyncio.create_task(runner_for(kit, engine, producer, servers, recording(kit)).run())
    try:
        assert await poll(lambda: _has(engine, kit, 1)), "nothing was applied"
        # Dead letters go to their topic after the batch commits: the runner must live until they are sent.
        assert await poll(lambda: _dlq_has(servers, kit, "cannot apply boom-1")), "no dead letter on its topic"
    finally:
        task.cancel()
    # The failing handler's half-done write was rolled back with its savepoint.
    assert await effect_notes(engine, kit) == ["after"]
    async with engine.connect() as conn:
        letters = (await conn.execute(select(kit.tables.dead_letters).order_by(kit.tables.dead_letters.c.id))).all()
    assert [(r.event_type, r.attempts) for r in letters] == [(None, 1), ("test.NoteAdded", 2)]
    assert "CloudEvents" in letters[0].error and "cannot apply boom-1" in letters[1].error


async def test_events_no_handler_wants_are_passed_over_unread(engine, kit, producer, servers):
    key, _, headers = to_message(event("other").model_copy(update={"event_type": "test.SomethingElse"}))
    # Told by its type header alone: even a body that is not JSON is never read, so no dead letter.
    await producer.send_and_wait(kit.topic, value=b"\x00 not JSON", key=key, headers=headers)
    await send(producer, kit.topic, event("wanted"))
    task = asyncio.create_task(runner_for(kit, engine, producer, servers, recording(kit)).run())
    try:
        assert await poll(lambda: _has(engine, kit, 1)), "nothing was applied"
    finally:
        task.cancel()
    assert await effect_notes(engine, kit) == ["wanted"]
    assert await count(engine, kit.tables.dead_letters) == 0


async def _has(engine, kit, n: int) -> bool:
    return len(await effect_notes(engine, kit)) >= n


async def _dlq_has(servers, kit, error: str) -> bool:
    return error in await _dlq_errors(servers, kit)


async def _dlq_errors(servers, kit) -> set[str]:
    consumer = AIOKafkaConsumer(DEAD_LETTER_TOPIC, bootstrap_servers=servers.kafka_bootstrap,
                                auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    found: set[str] = set()
    try:
        for _ in range(10):
            for records in (await consumer.getmany(timeout_ms=300)).values():
                for r in records:
                    h = {k: v.decode() for k, v in r.headers}
                    if h.get("fw_dlq_consumer") == f"test-{kit.schema}":
                        found.add(h["fw_dlq_error"].split("'")[1] if "'" in h["fw_dlq_error"] else h["fw_dlq_error"])
    finally:
        await consumer.stop()
    return found


async def test_a_dead_letter_is_replayed_once_its_cause_is_fixed_and_only_once(engine, kit, producer, servers):
    fixed = {"yet": False}
    handler = recording(kit)

    async def flaky(conn, env):
        if fixed["yet"]:
            env = env.model_copy(update={"payload": {"note": env.payload["note"].replace("boom", "fixed")}})
        await handler(conn, env)
    await send(producer, kit.topic, event("boom-replay"))
    await send(producer, kit.topic, event("next", version=2))
    task = asyncio.create_task(runner_for(kit, engine, producer, servers, flaky).run())
    try:
        assert await poll(lambda: _has(engine, kit, 1)), "nothing was applied"
    finally:
        task.cancel()
    async with engine.connect() as conn:
        letter = (await conn.execute(select(kit.tables.dead_letters))).one()
    handlers = {f"test-{kit.schema}": {"test.NoteAdded": flaky}}
    # Replayed before the fix: it fails again, is counted, and stays.
    with pytest.raises(ReplayRefused, match="cannot apply boom-replay"):
        await replay(engine, kit.tables, letter.id, handlers, actor="运维-李")
    fixed["yet"] = True
    done = await replay(engine, kit.tables, letter.id, handlers, actor="运维-李")
    assert (done["attempts"], done["replayed_by"]) == (3, "运维-李") and done["replayed_at"]
    assert await effect_notes(engine, kit) == ["next", "fixed-replay"]
    with pytest.raises(ReplayRefused, match="was replayed"):
        await replay(engine, kit.tables, letter.id, handlers, actor="运维-李")
    assert await effect_notes(engine, kit) == ["next", "fixed-replay"], "replayed once"


async def test_a_batched_handler_takes_a_run_at_once_and_a_failing_run_is_applied_one_by_one(engine, kit, producer,
                                                                                              servers):
    """A run of consecutive events goes to a batched handler in one call; when that call fails, the run is applied
    event by event, so that only the faulty event is set aside and the others are applied once, in order."""
    calls: list[int] = []
    one = recording(kit)

    async def batched(conn, envelopes):
        calls.append(len(envelopes))
        for env in envelopes:
            await one(conn, env)

    notes = ["a", "b", "boom-2", "c"]
    sent = [await send(producer, kit.topic, event(n, version=i + 1)) for i, n in enumerate(notes)]
    runner = runner_for(kit, engine, producer, servers, Batched(batched))
    task = asyncio.create_task(runner.run())
    try:
        assert await poll(lambda: read_past(runner, sent)), "the events were not all read"
    finally:
        task.cancel()
    assert await effect_notes(engine, kit) == ["a", "b", "c"]
    async with engine.connect() as conn:
        letters = (await conn.execute(select(kit.tables.dead_letters.c.error))).scalars().all()
    assert len(letters) == 1 and "cannot apply boom-2" in letters[0]
    # The run came as one call first (however the broker cut it into batches), then one event at a time.
    assert max(calls) > 1 and calls.count(1) >= len(notes) - 1


async def test_merged_partitions_give_one_run_in_each_partitions_order_and_apply_once(engine, kit, producer, servers):
    """With the partitions of a fetch merged (FUNDWATCH_CONSUMER_MERGE_PARTITIONS), a batched handler gets runs
    across partitions in one transaction; each stream's events (one partition) stay in their order, and an event
    delivered twice is applied once."""
    runs: list[list[str]] = []
    one = recording(kit)

    async def batched(conn, envelopes):
        runs.append([env.stream_id for env in envelopes])
        for env in envelopes:
            await one(conn, env)

    streams = [f"s-{k}" for k in range(8)]
    events = [event(f"{s}:{v}", stream=s, version=v) for v in range(1, 4) for s in streams]
    sent = [await send(producer, kit.topic, env) for env in [*events, events[0]]]
    partition_of = {env.stream_id: r.partition for env, r in zip(events, sent)}
    assert len(set(partition_of.values())) > 1, "the streams should fall into several partitions"
    runner = runner_for(kit, engine, producer, servers, Batched(batched))
    runner.merge_partitions = True
    task = asyncio.create_task(runner.run())
    try:
        assert await poll(lambda: read_past(runner, sent)), "the events were not all read"
    finally:
        task.cancel()
    notes = await effect_notes(engine, kit)
    assert sorted(notes) == sorted(env.payload["note"] for env in events)
    for s in streams:
        assert [n for n in notes if n.startswith(f"{s}:")] == [f"{s}:{v}" for v in range(1, 4)]
    assert any(len({partition_of[s] for s in run}) > 1 for run in runs), runs
