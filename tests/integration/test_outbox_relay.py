"""The outbox relay: no skipped late commits, survives its own crash and a broker outage."""

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from backbone.bus import create_producer, end_offsets, ensure_topics
from backbone.eventstore import NewStream
from backbone.outbox import OutboxRelay
from tests.integration.conftest import consume_all, notes
from tests.support.waiting import poll

pytestmark = pytest.mark.integration
WORKER = Path(__file__).with_name("relay_worker.py")


def relay_for(kit, engine, producer, **kw):
    return OutboxRelay(engine=engine, store=kit.store, producer=producer, topic_of=lambda _: kit.topic, **kw)


async def outbox_size(engine, kit) -> int:
    """Events still waiting to be published."""
    async with engine.connect() as conn:
        return await conn.scalar(text(f"select count(*) from {kit.schema}.outbox where published_at is null"))


async def test_an_event_committed_after_a_later_one_is_still_published(engine, kit, producer, servers):
    relay = relay_for(kit, engine, producer)
    meta = kit.store.metadata(actor="tester")
    # A takes its outbox position first but commits last.
    async with engine.connect() as conn_a:
        tx_a = await conn_a.begin()
        await kit.store.append(conn_a, stream_id="a", stream_type="thing", expected_version=0,
                               events=notes("committed-last"), meta=meta)
        async with engine.begin() as conn_b:
            await kit.store.append(conn_b, stream_id="b", stream_type="thing", expected_version=0,
                                   events=notes("committed-first"), meta=meta)
        assert await relay.publish_pending() == 1
        await tx_a.commit()
    assert await relay.publish_pending() == 1
    await relay.close()
    got = await consume_all(servers.kafka_bootstrap, kit.topic, expected=2)
    assert sorted(e.payload["note"] for e in got) == ["committed-first", "committed-last"]
    assert await outbox_size(engine, kit) == 0


async def test_only_one_relay_per_schema_publishes_at_a_time(engine, kit, producer):
    first, second = relay_for(kit, engine, producer), relay_for(kit, engine, producer)
    async with engine.begin() as conn:
        await kit.store.append(conn, stream_id="a", stream_type="thing", expected_version=0,
                               events=notes("x"), meta=kit.store.metadata(actor="tester"))
    try:
        assert await first.publish_pending() == 1
        async with engine.begin() as conn:
            await kit.store.append(conn, stream_id="a", stream_type="thing", expected_version=1,
                                   events=notes("y"), meta=kit.store.metadata(actor="tester"))
        assert await second.publish_pending() == 0, "a second relay must wait while the first leads"
        await first.close()
        assert await second.publish_pending() == 1
    finally:
        await first.close()
        await second.close()


async def test_concurrent_writers_lose_nothing_while_the_relay_runs(engine, kit, producer, servers):
    relay_task = asyncio.create_task(relay_for(kit, engine, producer, poll_seconds=0.05).run())
    meta = kit.store.metadata(actor="tester")

    async def writer(w: int) -> None:
        for i in range(20):
            async with engine.begin() as conn:
                await kit.store.append(conn, stream_id=f"w{w}-{i}", stream_type="thing", expected_version=0,
                                       events=notes(f"{w}-{i}"), meta=meta)
                # Load shaping, not waiting: transactions held open 0, 10 or 20 ms commit out of the order in
                # which they took their outbox ids, the case the relay must not skip. Nothing is asserted on time.
                await asyncio.sleep(0.01 * ((w + i) % 3))

    await asyncio.gather(*(writer(w) for w in range(5)))
    assert await poll(lambda: _empty(engine, kit)), "the outbox was not emptied"
    relay_task.cancel()
    got = await consume_all(servers.kafka_bootstrap, kit.topic, expected=100)
    assert {e.payload["note"] for e in got} == {f"{w}-{i}" for w in range(5) for i in range(20)}


async def _empty(engine, kit) -> bool:
    return await outbox_size(engine, kit) == 0


async def test_a_relay_killed_mid_stream_delivers_everything_after_restart_in_stream_order(engine, kit, servers):
    streams, per_stream = 20, 60
    meta = kit.store.metadata(actor="tester")
    for version in range(per_stream):
        async with engine.begin() as conn:
            for s in range(streams):
                await kit.store.append(conn, stream_id=f"s{s}", stream_type="thing", expected_version=version,
                                       events=notes(f"{s}:{version + 1}"), meta=meta)
    total = streams * per_stream
    env = dict(os.environ)
    worker = subprocess.Popen([sys.executable, str(WORKER), kit.schema, kit.topic], env=env)
    try:
        # Kill it once it is part way through.
        assert await poll(lambda: _below(engine, kit, total), timeout=60, interval=0.01), \
            "the worker was not seen part way through"
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        left = await outbox_size(engine, kit)
        worker = subprocess.Popen([sys.executable, str(WORKER), kit.schema, kit.topic], env=env)
        assert await poll(lambda: _empty(engine, kit), timeout=60), "the outbox was not emptied"
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    got = await consume_all(servers.kafka_bootstrap, kit.topic, expected=total)
    first_seen: dict[str, list[int]] = {}
    ids = set()
    for e in got:
        if e.event_id not in ids:
            ids.add(e.event_id)
            first_seen.setdefault(e.stream_id, []).append(e.version)
    assert len(ids) == total, f"{total - len(ids)} events lost ({left} were left in the outbox at the kill)"
    assert all(v == list(range(1, per_stream + 1)) for v in first_seen.values())


async def _below(engine, kit, total: int) -> bool:
    return 0 < await outbox_size(engine, kit) < total


@contextlib.asynccontextmanager
async def running_relay(kit, engine, servers, **kw):
    """A relay running with its own producer on the suite's embedded broker, which the test stops and starts."""
    if servers.broker is None:
        pytest.skip("the broker is external (KAFKA_BOOTSTRAP); this test stops and starts the embedded one")
    settings = servers.settings()
    producer = create_producer(settings, request_timeout_ms=3000)
    await producer.start()
    relay = relay_for(kit, engine, producer, poll_seconds=0.1,
                      ensure_topic=lambda: ensure_topics(settings, (kit.topic,), seconds=3),
                      end_offsets=lambda topics: end_offsets(settings, topics), **kw)
    task = asyncio.create_task(relay.run())
    try:
        yield relay
    finally:
        task.cancel()
        await producer.stop()


async def test_events_appended_while_the_broker_is_down_arrive_once_it_is_back(engine, kit, servers):
    async with running_relay(kit, engine, servers) as relay:
        # The relay is under way (its first pass has checked the topic) when the broker goes.
        assert await poll(lambda: relay.passes >= 1), "the relay did not start"
        servers.broker.stop()
        meta = kit.store.metadata(actor="tester")
        async with engine.begin() as conn:
            await kit.store.create_streams(conn, [NewStream(f"o{i}", "thing", notes(f"outage-{i}")) for i in range(10)],
                                           meta)
        # A pass that began after the commit has ended (the one running at the commit may have begun before it).
        seen = relay.passes
        assert await poll(lambda: relay.passes >= seen + 2, timeout=60), "the relay stopped passing"
        assert await outbox_size(engine, kit) == 10, "nothing can be published while the broker is down"
        # The embedded broker keeps no memory: it comes back empty, topics included.
        servers.broker.start()
        await ensure_topics(servers.settings())
        assert await poll(lambda: _empty(engine, kit), timeout=60), "the outbox was not emptied"
    got = await consume_all(servers.kafka_bootstrap, kit.topic, expected=10)
    assert sorted(e.payload["note"] for e in got) == sorted(f"outage-{i}" for i in range(10))


async def test_what_a_restarted_broker_forgot_is_published_again_once_and_in_order(engine, kit, servers):
    meta = kit.store.metadata(actor="tester")
    async with engine.begin() as conn:
        for version in range(5):
            await kit.store.append(conn, stream_id="s", stream_type="thing", expected_version=version,
                                   events=notes(f"before-{version + 1}"), meta=meta)
    async with running_relay(kit, engine, servers, check_seconds=0.2):
        assert await poll(lambda: _empty(engine, kit), timeout=30), "the outbox was not emptied"
        assert len(await consume_all(servers.kafka_bootstrap, kit.topic, expected=5)) == 5
        # The embedded broker restarts empty: published events are gone from it, not from the outbox.
        servers.broker.stop()
        servers.broker.start()
        await ensure_topics(servers.settings())
        async with engine.begin() as conn:
            await kit.store.append(conn, stream_id="s", stream_type="thing", expected_version=5,
                                   events=notes("after-6"), meta=meta)
        got = await consume_all(servers.kafka_bootstrap, kit.topic, expected=6)
    assert [e.payload["note"] for e in got] == [f"before-{v}" for v in range(1, 6)] + ["after-6"], \
        "everything the broker forgot comes again, in the stream's order, before what came after"
