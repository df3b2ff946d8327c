"""A scratch schema with the plumbing tables, a topic of its own, and Kafka helpers."""

import asyncio
from typing import ClassVar
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import Column, Integer, MetaData, Table, Text

from backbone.bus import create_producer, ensure_topics, from_message
from backbone.eventstore import EventStore
from backbone.tables import DEAD_LETTER_REPLAY_DDL, OUTBOX_RETENTION_DDL, PLUMBING_DDL, plumbing_tables
from contracts.envelope import DomainEvent


class Kit:
    """One test's schema, event store, topic and effects table."""

    def __init__(self, schema: str) -> None:
        self.schema = schema
        self.metadata = MetaData(schema=schema)
        self.tables = plumbing_tables(self.metadata)
        self.effects = Table("effects", self.metadata, Column("id", Integer, primary_key=True),
                             Column("stream_id", Text), Column("note", Text))
        self.store = EventStore(self.tables, source="testkit")
        self.topic = f"fundwatch.test-{schema}.v1"


@pytest.fixture
async def kit(engine, servers):
    k = Kit(f"t_{uuid4().hex[:10]}")
    async with engine.begin() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        await raw.execute(PLUMBING_DDL.format(s=k.schema) + DEAD_LETTER_REPLAY_DDL.format(s=k.schema)
                          + OUTBOX_RETENTION_DDL.format(s=k.schema))
        await raw.execute(f"CREATE TABLE {k.schema}.effects (id serial PRIMARY KEY, stream_id text, note text)")
    await ensure_topics(servers.settings(), (k.topic,))
    yield k
    async with engine.begin() as conn:
        await conn.exec_driver_sql(f"DROP SCHEMA {k.schema} CASCADE")


@pytest.fixture
async def producer(servers):
    p = create_producer(servers.settings())
    await p.start()
    yield p
    await p.stop()


async def consume_all(bootstrap: str, topic: str, expected: int, timeout: float = 30.0):
    """Read a topic from the start until `expected` events arrived (or time runs out)."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                group_id=None, enable_auto_commit=False)
    await consumer.start()
    got = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(got) < expected and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            for records in batch.values():
                got.extend(from_message(r.value, r.headers) for r in records)
    finally:
        await consumer.stop()
    return got


class NoteAdded(DomainEvent):
    """A test event."""

    event_type: ClassVar[str] = "test.NoteAdded"
    context: ClassVar[str] = "test"

    note: str


def notes(*texts: str) -> list[NoteAdded]:
    return [NoteAdded(note=t) for t in texts]

