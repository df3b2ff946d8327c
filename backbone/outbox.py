"""The outbox relay: publishes committed events to Kafka, at least once, in order per stream.

It reads the unpublished outbox rows in id order. A row only becomes visible when its transaction
commits, and it stays pending until published, so an event whose transaction commits after a later
one is picked up on the next pass instead of being skipped. One relay per schema publishes at
a time (session advisory lock), which keeps the order per stream across instances; a crash
between publishing and marking publishes again (at least once).

A published row is kept for a retention window. The relay notes the lowest offset it wrote to each
partition in its latest pass; a broker whose end offset is at or below that mark has forgotten what
it was given (the embedded broker on every restart, a real one rebuilt from nothing), and every kept
row is published again, in order. Consumers skip what they applied.
"""

import asyncio
import contextlib
import zlib
from collections.abc import Awaitable, Callable
from datetime import timedelta

from aiokafka import AIOKafkaProducer
from opentelemetry import propagate, trace
from opentelemetry.instrumentation.aiokafka import AIOKafkaInstrumentor
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

import structlog

from backbone.bus import to_message
from backbone.eventstore import EventStore, envelope_from_row
from backbone.metrics import OUTBOX_OLDEST, OUTBOX_PENDING, REPUBLISHED
from backbone.notify import Notifier

log = structlog.get_logger(__name__)
tracer = trace.get_tracer(__name__)


class _HeaderSetter:
    def set(self, carrier: list[tuple[str, bytes]], key: str, value: str) -> None:
        carrier.append((key, value.encode()))


_HEADER_SETTER = _HeaderSetter()


class OutboxRelay:
    """Moves events from one service's outbox to the topic of each event's context."""

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        store: EventStore,
        producer: AIOKafkaProducer,
        topic_of: Callable[[str], str],
        notifier: Notifier | None = None,
        batch_size: int = 1000,
        poll_seconds: float = 0.5,
        ensure_topic: Callable[[], Awaitable[None]] | None = None,
        end_offsets: Callable[[set[str]], Awaitable[dict[tuple[str, int], int]]] | None = None,
        check_seconds: float = 10.0,
        retention: timedelta = timedelta(days=7),
    ) -> None:
        self.engine = engine
        self.store = store
        self.producer = producer
        self.topic_of = topic_of
        self.notifier = notifier
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.ensure_topic = ensure_topic
        self.end_offsets = end_offsets
        self.check_seconds = check_seconds
        self.retention = retention
        self._lock_key = zlib.crc32(f"outbox:{store.tables.schema}".encode())
        self._leader: AsyncConnection | None = None
        self._marks_read: dict[tuple[str, int], int] | None = None
        # Passes of `run` ended so far, published or failed: what shows that the relay has looked again.
        self.passes = 0
        schema = store.tables.schema
        self._select = text(
            f"""
            SELECT o.id AS outbox_id, e.*
            FROM {schema}.outbox o JOIN {schema}.events e ON e.position = o.event_position
            WHERE o.published_at IS NULL
            ORDER BY o.id
            LIMIT :limit
            """
        )
        self._published = text(f"UPDATE {schema}.outbox SET published_at = now() WHERE id = ANY(:ids)")
        self._mark = text(
            f"""
            INSERT INTO {schema}.relay_marks (topic, partition, "offset")
            SELECT * FROM unnest(CAST(:topics AS text[]), CAST(:partitions AS int[]), CAST(:offsets AS bigint[]))
            ON CONFLICT (topic, partition) DO UPDATE SET "offset" = EXCLUDED."offset"
            """
        )
        self._marks = text(f'SELECT topic, partition, "offset" FROM {schema}.relay_marks')
        self._republish = text(f"UPDATE {schema}.outbox SET published_at = NULL WHERE published_at IS NOT NULL")
        self._forget_marks = text(f"DELETE FROM {schema}.relay_marks")
        self._backlog = text(
            f"""
            SELECT count(*) AS pending, extract(epoch FROM now() - min(e.recorded_at)) AS oldest
            FROM {schema}.outbox o JOIN {schema}.events e ON e.position = o.event_position
            WHERE o.published_at IS NULL
            """
        )
        self._prune = text(f"DELETE FROM {schema}.outbox WHERE published_at < now() - CAST(:keep AS interval)")
        # The aiokafka instrumentation injects the sending span's context itself.
        self._inject_trace = not AIOKafkaInstrumentor().is_instrumented_by_opentelemetry

    async def publish_pending(self) -> int:
        """One pass: publish what is committed in the outbox; returns how many were published.

        No transaction stays open while Kafka is waited on: an open writing transaction would
        hold back every reader of the commit-safe feed (`EventStore.read_all`).
        """
        if not await self._lead():
            return 0
        async with self.engine.connect() as conn:
            rows = (await conn.execute(self._select, {"limit": self.batch_size})).all()
        if not rows:
            return 0
        futures = []
        for row in rows:
            envelope = envelope_from_row(row._mapping)
            key, value, headers = to_message(envelope)
            parent = propagate.extract({"traceparent": envelope.metadata.traceparent or ""})
            with tracer.start_as_current_span(
                f"publish {envelope.event_type}", context=parent, kind=trace.SpanKind.PRODUCER
            ):
                if self._inject_trace:
                    propagate.inject(headers, setter=_HEADER_SETTER)
                futures.append(await self.producer.send(self.topic_of(envelope.event_type), value=value, key=key,
                                                        headers=headers))
        sent = await asyncio.gather(*futures)
        lowest: dict[tuple[str, int], int] = {}
        for record in sent:
            where = (record.topic, record.partition)
            lowest[where] = min(record.offset, lowest.get(where, record.offset))
        async with self.engine.begin() as conn:
            marks = await self._known_marks(conn)
            await conn.execute(self._published, {"ids": [row.outbox_id for row in rows]})
            # Offsets only grow on a broker that remembers: one handed out again means it started over.
            forgotten = [where for where, offset in lowest.items() if offset <= marks.get(where, -1)]
            if forgotten:
                await self._queue_again(conn, forgotten)
            else:
                await conn.execute(self._mark, {"topics": [t for t, _ in lowest],
                                                "partitions": [p for _, p in lowest], "offsets": list(lowest.values())})
                marks.update(lowest)
        log.debug("outbox.published", schema=self.store.tables.schema, count=len(rows))
        return len(rows)

    async def recover_forgotten(self) -> int:
        """If the broker forgot what this relay gave it, queue every kept event again; returns how many."""
        if self.end_offsets is None or not await self._lead():
            return 0
        async with self.engine.connect() as conn:
            marks = dict(await self._known_marks(conn))
        if not marks:
            return 0
        ends = await self.end_offsets({topic for topic, _ in marks})
        forgotten = [where for where, offset in marks.items() if ends.get(where, -1) <= offset]
        if not forgotten:
            return 0
        if self.ensure_topic:
            await self.ensure_topic()
        async with self.engine.begin() as conn:
            return await self._queue_again(conn, forgotten)

    async def _queue_again(self, conn: AsyncConnection, forgotten: list[tuple[str, int]]) -> int:
        again = (await conn.execute(self._republish)).rowcount
        REPUBLISHED.labels(self.store.tables.schema).inc(again)
        await conn.execute(self._forget_marks)
        self._marks_read = {}
        log.warning("outbox.broker_forgot", schema=self.store.tables.schema, republishing=again,
                    partitions=[f"{topic}/{partition}" for topic, partition in forgotten])
        return again

    async def _known_marks(self, conn: AsyncConnection) -> dict[tuple[str, int], int]:
        """The marks, read once per leadership: only the leading relay writes them."""
        if self._marks_read is None:
            self._marks_read = {(m.topic, m.partition): m.offset for m in (await conn.execute(self._marks)).all()}
        return self._marks_read

    async def backlog(self) -> tuple[int, float | None]:
        """Events waiting to be published, and the age in seconds of the oldest (None when there are none)."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(self._backlog)).one()
        return row.pending, None if row.oldest is None else float(row.oldest)

    async def prune(self) -> int:
        """Drop published events older than the retention window; returns how many."""
        async with self.engine.begin() as conn:
            return (await conn.execute(self._prune, {"keep": self.retention})).rowcount

    async def _lead(self) -> bool:
        """Whether this relay is the one that publishes for its schema (a session advisory lock,
        released by PostgreSQL if this process or its connection dies)."""
        if self._leader is not None:
            try:
                await self._leader.exec_driver_sql("select 1")
                await self._leader.commit()
                return True
            except Exception:  # noqa: BLE001 - lost the connection, and with it the lock
                await self.close()
        conn = await self.engine.connect()
        leading = await conn.scalar(text("select pg_try_advisory_lock(:k)"), {"k": self._lock_key})
        await conn.commit()
        if leading:
            self._leader = conn
            self._marks_read = None  # another relay may have led meanwhile
            return True
        await conn.close()
        return False

    async def close(self) -> None:
        """Give up leadership."""
        if self._leader is not None:
            # The connection goes back to the pool: the session lock must not go with it.
            try:
                await self._leader.scalar(text("select pg_advisory_unlock(:k)"), {"k": self._lock_key})
                await self._leader.commit()
            except Exception:  # noqa: BLE001 - a dead connection took the lock with it
                with contextlib.suppress(Exception):
                    await self._leader.invalidate()
            with contextlib.suppress(Exception):
                await self._leader.close()
            self._leader = None

    async def run(self) -> None:
        """Publish forever; a broker or database outage is waited out, nothing is lost."""
        wake = self.notifier.subscribe() if self.notifier else asyncio.Event()
        backoff = 0.2
        # After an outage the broker may have come back without the topic (the embedded one
        # keeps nothing), and a producer with stale metadata would publish into the void.
        check_topic = self.ensure_topic is not None
        checked = -self.check_seconds
        loop = asyncio.get_running_loop()
        try:
            while True:
                wake.clear()
                try:
                    if check_topic and self.ensure_topic:
                        await self.ensure_topic()
                        check_topic = False
                    if loop.time() - checked >= self.check_seconds:
                        await self.recover_forgotten()
                        await self.prune()
                        pending, oldest = await self.backlog()
                        OUTBOX_PENDING.labels(self.store.tables.schema).set(pending)
                        OUTBOX_OLDEST.labels(self.store.tables.schema).set(oldest or 0)
                        checked = loop.time()
                    published = await self.publish_pending()
                    backoff = 0.2
                    self.passes += 1
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - broker/database down: retry later
                    self.passes += 1
                    log.warning("outbox.publish_failed", schema=self.store.tables.schema, error=repr(exc),
                                retry_in=backoff)
                    check_topic = self.ensure_topic is not None
                    checked = -self.check_seconds
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                if published >= self.batch_size:
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=min(self.poll_seconds, self.check_seconds))
        finally:
            if self.notifier:
                self.notifier.unsubscribe(wake)
            await self.close()
