"""The event store on real PostgreSQL: versions, conflicts, immutability, reading all."""

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from backbone.errors import ConcurrencyConflict, EventTooLarge
from backbone.eventstore import MAX_EVENT_BYTES, FeedCursor, NewStream
from tests.integration.conftest import notes
from tests.support.waiting import poll

pytestmark = pytest.mark.integration


async def test_append_then_read_the_stream_back_in_order(engine, kit):
    meta = kit.store.metadata(actor="tester", org_unit="220100", correlation_id="req-1")
    async with engine.begin() as conn:
        stored = await kit.store.append(conn, stream_id="s-1", stream_type="thing", expected_version=0,
                                        events=notes("a", "b"), meta=meta)
        await kit.store.append(conn, stream_id="s-1", stream_type="thing", expected_version=2,
                               events=notes("c"), meta=meta)
    async with engine.connect() as conn:
        events = await kit.store.read_stream(conn, "s-1")
    assert [(e.version, e.payload["note"]) for e in events] == [(1, "a"), (2, "b"), (3, "c")]
    assert events[0].event_id == stored[0].event_id
    assert events[0].metadata.actor == "tester" and events[0].metadata.correlation_id == "req-1"
    assert events[0].position < events[1].position < events[2].position


async def test_appending_at_a_stale_version_is_a_conflict(engine, kit):
    meta = kit.store.metadata(actor="tester")
    async with engine.begin() as conn:
        await kit.store.append(conn, stream_id="s-1", stream_type="thing", expected_version=0,
                               events=notes("a", "b"), meta=meta)
    # Creating a stream that exists already.
    with pytest.raises(ConcurrencyConflict) as err:
        async with engine.begin() as conn:
            await kit.store.append(conn, stream_id="s-1", stream_type="thing", expected_version=0,
                                   events=notes("again"), meta=meta)
    assert err.value.status == 409 and err.value.extra["stream_id"] == "s-1"
    # Appending after a version someone else has moved past.
    with pytest.raises(ConcurrencyConflict) as err:
        async with engine.begin() as conn:
            await kit.store.append(conn, stream_id="s-1", stream_type="thing", expected_version=1,
                                   events=notes("late"), meta=meta)
    assert err.value.extra["actual_version"] == 2
    async with engine.connect() as conn:
        assert [e.payload["note"] for e in await kit.store.read_stream(conn, "s-1")] == ["a", "b"]


async def test_two_writers_racing_for_the_same_version_one_wins(engine, kit):
    meta = kit.store.metadata(actor="tester")
    both_open = asyncio.Barrier(2)
    backends: dict[str, int] = {}

    async def waits_on(other: str, holder: str) -> bool:
        async with engine.connect() as conn:
            blockers = await conn.scalar(text("select pg_blocking_pids(:pid)"), {"pid": backends[other]})
        return backends[holder] in blockers

    async def writer(note: str, other: str) -> str:
        async with engine.begin() as conn:
            backends[note] = await conn.scalar(text("select pg_backend_pid()"))
            await both_open.wait()
            await kit.store.append(conn, stream_id="race", stream_type="thing", expected_version=0,
                                   events=notes(note), meta=meta)
            # The first to append holds its transaction open until the other's append waits on it.
            assert await poll(lambda: waits_on(other, note)), f"{other} never waited on {note}"
        return note

    results = await asyncio.gather(writer("x", "y"), writer("y", "x"), return_exceptions=True)
    assert sum(isinstance(r, ConcurrencyConflict) for r in results) == 1, results
    assert sum(isinstance(r, str) for r in results) == 1, results
    async with engine.connect() as conn:
        assert len(await kit.store.read_stream(conn, "race")) == 1


async def test_events_cannot_be_changed_or_deleted(engine, kit):
    async with engine.begin() as conn:
        await kit.store.append(conn, stream_id="s-1", stream_type="thing", expected_version=0,
                               events=notes("a"), meta=kit.store.metadata(actor="tester"))
    for statement in (f"UPDATE {kit.schema}.events SET payload = '{{}}'", f"DELETE FROM {kit.schema}.events"):
        with pytest.raises(DBAPIError, match="immutable"):
            async with engine.begin() as conn:
                await conn.exec_driver_sql(statement)


async def test_read_all_never_skips_an_event_whose_transaction_commits_late(engine, kit):
    meta = kit.store.metadata(actor="tester")
    seen: list[str] = []
    cursor = FeedCursor()

    async def read_more() -> None:
        nonlocal cursor
        async with engine.connect() as conn:
            for position, env in await kit.store.read_all(conn, cursor):
                cursor = position
                seen.append(env.payload["note"])

    # Transaction A takes the lower position and stays open; B takes a higher one and commits.
    async with engine.connect() as conn_a:
        tx_a = await conn_a.begin()
        await kit.store.append(conn_a, stream_id="a", stream_type="thing", expected_version=0,
                               events=notes("late"), meta=meta)
        async with engine.begin() as conn_b:
            await kit.store.append(conn_b, stream_id="b", stream_type="thing", expected_version=0,
                                   events=notes("early"), meta=meta)
        await read_more()
        await tx_a.commit()
    await read_more()
    assert sorted(seen) == ["early", "late"]
    await read_more()
    assert sorted(seen) == ["early", "late"]


async def test_creating_many_streams_at_once_skips_existing_ones_and_survives_a_concurrent_twin(engine, kit):
    meta = kit.store.metadata(actor="tester")
    streams = [NewStream(f"bulk-{i}", "thing", notes(f"n{i}")) for i in range(2500)]
    async with engine.begin() as conn:
        await kit.store.create_streams(conn, streams[:10], meta)
    # Two creators of the same 2,500 streams at once: every stream exists once, nothing fails.
    results = []

    async def create() -> None:
        async with engine.begin() as conn:
            results.append(await kit.store.create_streams(conn, streams, meta))

    await asyncio.gather(create(), create())
    created = sorted(len(stored) for stored, _ in results)
    assert created == [0, 2490]
    async with engine.connect() as conn:
        count = await conn.scalar(text(f"select count(*) from {kit.schema}.events"))
        outbox = await conn.scalar(text(f"select count(*) from {kit.schema}.outbox"))
    assert count == outbox == 2500


async def test_an_event_too_large_to_publish_is_refused_and_nothing_of_its_command_is_stored(engine, kit):
    meta = kit.store.metadata(actor="tester")
    with pytest.raises(EventTooLarge) as refused:
        async with engine.begin() as conn:
            await kit.store.append(conn, stream_id="small", stream_type="thing", expected_version=0,
                                   events=notes("fits"), meta=meta)
            await kit.store.append(conn, stream_id="big", stream_type="thing", expected_version=0,
                                   events=notes("x" * MAX_EVENT_BYTES), meta=meta)
    assert refused.value.status == 422 and refused.value.extra["limit"] == MAX_EVENT_BYTES
    async with engine.connect() as conn:
        assert await conn.scalar(text(f"select count(*) from {kit.schema}.events")) == 0, "nothing half-done"
        assert await conn.scalar(text(f"select count(*) from {kit.schema}.outbox")) == 0
