"""The one consumer runner: consumer groups, idempotent effects, dead letters.

Each batch is applied in one transaction. Every event's effect and its tracking row
(`processed_events`) commit together, so a redelivered event changes nothing; offsets are
committed to Kafka only after the transaction. A handler that keeps failing sends its event
to the dead-letter table and topic and the partition moves on.

Why it is long (over 300 lines): it is one class. `ConsumerRunner`'s group membership and stall
watch (`run`, `_watch`, `_check_stall`), its transaction per batch (`process`, `_claim`,
`_apply`), its lag and its dead letters share one Kafka consumer, the producer, the offsets
applied and the heartbeat of the consume loop; in separate modules they would hand that state
back and forth.
"""

import asyncio
import contextlib
from dataclasses import dataclass
from itertools import groupby
from collections.abc import Awaitable, Callable, Mapping
from enum import Enum
from typing import Any
from uuid import UUID, uuid4

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from opentelemetry import propagate, trace
from sqlalchemy import Uuid, insert, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_random_exponential

import structlog

from backbone.bus import PoisonMessage, from_message, header_dict
from backbone.db import is_transient
from backbone.metrics import CONSUMER_LAG, DEAD_LETTERS, EVENTS_APPLIED
from backbone.tables import PlumbingTables
from contracts.catalog import DEAD_LETTER_TOPIC
from contracts.envelope import EventEnvelope

log = structlog.get_logger(__name__)
tracer = trace.get_tracer(__name__)

Handler = Callable[[AsyncConnection, EventEnvelope], Awaitable[None]]


@dataclass(frozen=True)
class Batched:
    """A handler that takes a run of consecutive events of its types at once, so that a batch of 500 payments costs
    a few multi-row statements instead of a few round trips each. The same function takes a single event when the
    run has to be applied one by one, to set a failing event aside."""

    apply: Callable[[AsyncConnection, list[EventEnvelope]], Awaitable[None]]


async def apply_one(handler: Handler | Batched, conn: AsyncConnection, envelope: EventEnvelope) -> None:
    """Apply one event with a handler of either kind."""
    await (handler.apply(conn, [envelope]) if isinstance(handler, Batched) else handler(conn, envelope))


class ConsumerStalled(Exception):
    """Records wait and the group does not move: the consumer starts over with a new one."""

    def __init__(self, message: str, *, held_elsewhere: bool) -> None:
        super().__init__(message)
        self.held_elsewhere = held_elsewhere



class Held(Enum):
    """What a partition this consumer holds tells of the broker."""

    MOVING = "moving"
    STALLED = "stalled"  # records wait past the position and nothing came for three intervals
    FORGOTTEN = "forgotten"  # the log ends before the position: the broker started over


def held_partition(position: int, high: int | None, *, idle: bool) -> Held:
    """Judge a held partition by its position and the high-water mark of its last fetch (None: no fetch answered)."""
    if high is not None and high < position:
        return Held.FORGOTTEN
    if idle and (high is None or high > position):
        return Held.STALLED
    return Held.MOVING


class ConsumerRunner:
    """Consumes topics as one consumer group and applies handlers by event type."""

    def __init__(
        self,
        *,
        name: str,
        topics: tuple[str, ...],
        handlers: Mapping[str, Handler | Batched],
        engine: AsyncEngine,
        tables: PlumbingTables,
        bootstrap: str,
        producer: AIOKafkaProducer,
        max_attempts: int = 3,
        max_records: int = 2_000,
        merge_partitions: bool = False,
        stall_seconds: float = 30.0,
    ) -> None:
        self.name = name
        self.topics = topics
        self.handlers = handlers
        self.engine = engine
        self.tables = tables
        self.bootstrap = bootstrap
        self.producer = producer
        self.max_attempts = max_attempts
        self.max_records = max_records
        self.merge_partitions = merge_partitions
        self.stall_seconds = stall_seconds
        self._behind: dict[TopicPartition, int] = {}
        # The broker's group; `name` stays what tracks applied events (processed_events), whatever the group.
        self.group_id = name
        self._stalled_elsewhere = 0
        # Per partition held: its position at the last check, and since when it stood there.
        self._moved: dict[TopicPartition, tuple[int, float]] = {}
        self.consumer: AIOKafkaConsumer | None = None
        # Offsets this group applied up to, per partition, and the partitions' ends at the last fetch: the lag.
        self.applied: dict[tuple[str, int], int] = {}
        self.ends: dict[tuple[str, int], int] = {}
        # When the consume loop last came round; an attempt silent for longer than this is started over.
        self._beat = 0.0
        self.hang_seconds = max(6 * stall_seconds, 30.0)
        # One array of ids, not a row of parameters per event: SQLAlchemy's handling of each row's parameters cost
        # more than PostgreSQL's insert.
        self._claim_stmt = text(f"""
            INSERT INTO {tables.schema}.processed_events (consumer, event_id)
            SELECT :consumer, unnest(CAST(:ids AS uuid[])) ON CONFLICT DO NOTHING RETURNING event_id"""
                                ).columns(event_id=Uuid())

    def _new_consumer(self) -> AIOKafkaConsumer:
        # The broker may forget committed offsets (in-memory Tansu): start from the earliest
        # message and let the tracking table skip what is done.
        return AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=self.bootstrap,
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            metadata_max_age_ms=5_000,
        )

    async def run(self) -> None:
        """Consume until cancelled; a broker or database outage is waited out, and an attempt that stops coming
        round (a call that never answers) is cancelled and started over."""
        backoff = 0.5
        while True:
            self.consumer = self._new_consumer()
            attempt = asyncio.create_task(self._consume(), name=f"consume:{self.name}")
            try:
                await self._watch(attempt)
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except ConsumerStalled as exc:
                self._leave_a_dead_group(exc)
                log.warning("consumer.restart", consumer=self.name, error=repr(exc), retry_in=0)
            except Exception as exc:  # noqa: BLE001 - reconnect; uncommitted records come again
                log.warning("consumer.restart", consumer=self.name, error=repr(exc), retry_in=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
            finally:
                if not attempt.done():
                    attempt.cancel()
                    with contextlib.suppress(BaseException):
                        await attempt
                # A consumer caught in a rebalance that never ends may not stop either: it is left behind.
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(10):
                        await self.consumer.stop()

    async def _watch(self, attempt: asyncio.Task[None]) -> None:
        """Wait for the attempt; cancel it when its loop has not come round for `hang_seconds` (seen after the
        embedded broker and PostgreSQL were killed: a consumer that answered ready, held its partitions and
        applied nothing for minutes), naming where it was."""
        loop = asyncio.get_running_loop()
        self._beat = loop.time()
        while True:
            done, _ = await asyncio.wait({attempt}, timeout=1.0)
            if done:
                # A CancelledError of its own (a client library's teardown) passes on to the loop's supervisor,
                # which starts the runner again when nobody cancelled it.
                return attempt.result()
            if loop.time() - self._beat > self.hang_seconds:
                where = " <- ".join(f"{f.f_code.co_name}:{f.f_lineno}" for f in attempt.get_stack(limit=8))
                raise ConsumerStalled(f"the consumer did not come round for {self.hang_seconds:.0f}s (at {where})",
                                      held_elsewhere=False)

    async def _consume(self) -> None:
        loop = asyncio.get_running_loop()
        consumer = self.consumer
        assert consumer is not None
        await consumer.start()
        checked = self._beat = loop.time()
        self._behind = {}
        self._moved = {}
        self.ends = {}
        while True:
            self._beat = loop.time()
            batch = await consumer.getmany(timeout_ms=500, max_records=self.max_records)
            self._note_ends()
            if loop.time() - checked >= self.stall_seconds:
                try:
                    async with asyncio.timeout(self.stall_seconds):
                        await self._check_stall(loop.time())
                except TimeoutError:
                    # The group's coordinator does not even answer (seen: a rebalance that never ends).
                    raise ConsumerStalled(f"the group did not answer within {self.stall_seconds:.0f}s",
                                          held_elsewhere=True) from None
                checked = loop.time()
            if not batch:
                continue
            if self.merge_partitions:
                # One transaction for the fetch: each partition's records stay in their order (an indicator's
                # events are in one partition), and a batched handler gets the partitions' runs as one.
                await self.process([record for records in batch.values() for record in records])
            else:
                # Partitions are independent orderings: apply them side by side. A failure
                # cancels the others; nothing is committed to Kafka and all of it comes again.
                async with asyncio.TaskGroup() as group:
                    for records in batch.values():
                        group.create_task(self.process(records))
            done = {tp: records[-1].offset + 1 for tp, records in batch.items()}
            await consumer.commit(done)
            self.applied.update({(tp.topic, tp.partition): offset for tp, offset in done.items()})

    def _leave_a_dead_group(self, stall: ConsumerStalled) -> None:
        """Rejoining hands partitions out again; when another member's partitions stay stuck after a rejoin, a
        member that is gone still holds them (the embedded broker can keep a member that died without leaving),
        and this consumer moves to a group of its own. It starts from the topics' beginning there and skips
        what it applied; with several replicas each would then read every partition: more work, same effect."""
        self._stalled_elsewhere = self._stalled_elsewhere + 1 if stall.held_elsewhere else 0
        if self._stalled_elsewhere >= 2:
            self.group_id = f"{self.name}.{uuid4().hex[:8]}"
            self._stalled_elsewhere = 0
            log.warning("consumer.new_group", consumer=self.name, group=self.group_id)

    async def _check_stall(self, now: float) -> None:
        """Raise when the group does not move while records wait: a partition this consumer holds whose position
        stayed put for three intervals, whatever its other partitions do (seen: one partition of the embedded
        broker answering nothing for minutes while the others flowed), or partitions another member holds whose committed offset stayed
        put since the last check (a member that died without leaving: the embedded broker does not always hand
        its partitions on). Starting over rejoins the group, and the rebalance gives the partitions out again.

        The end of a partition this consumer holds is the high-water mark of its last fetch: the embedded broker's
        ListOffsets answers are not to be trusted (seen: 1 for a partition of 500 records), so they count only for
        partitions held elsewhere, and only as a floor. A high-water mark below the position means the broker
        started over with an empty log (the embedded one forgets everything when it restarts) after this consumer
        took its position from the old one: the partition is read again from its start, and the tracking table
        skips what was applied."""
        consumer = self.consumer
        if consumer is None:
            return
        partitions = [TopicPartition(t, p) for t in self.topics for p in consumer.partitions_for_topic(t) or ()]
        if not partitions:
            return
        ends = await consumer.end_offsets(partitions)
        mine = consumer.assignment()
        behind: dict[TopicPartition, int] = {}
        held_here: list[str] = []
        for tp in partitions:
            if tp not in mine:
                position = await consumer.committed(tp) or 0
                if ends.get(tp) is not None and ends[tp] > position:
                    behind[tp] = position
                continue
            position = await consumer.position(tp)
            high = consumer.highwater(tp)
            if self._moved.get(tp, (None, 0.0))[0] != position:
                self._moved[tp] = (position, now)
            # Three intervals, not one: the embedded broker's fetches slow down as its in-memory log grows, and a
            # consumer that rejoined for every slow fetch fell behind for good.
            verdict = held_partition(position, high, idle=now - self._moved[tp][1] >= 3 * self.stall_seconds)
            if verdict is Held.FORGOTTEN:
                log.warning("consumer.broker_forgot", consumer=self.name, partition=f"{tp.topic}/{tp.partition}",
                            position=position, end=high)
                consumer.seek_to_beginning(tp)
                continue
            if verdict is Held.STALLED:
                held_here.append(f"{tp.topic}/{tp.partition} at {position} of {high if high is not None else '?'}")
        held_elsewhere = [tp for tp, position in behind.items() if self._behind.get(tp) == position]
        self._behind = behind
        # Reset only when nothing waits elsewhere: the first check of a new consumer has nothing to compare
        # with yet, and must not wipe out the count of the stalls before it.
        if not behind:
            self._stalled_elsewhere = 0
        if held_here or held_elsewhere:
            stalled = held_here + [f"{tp.topic}/{tp.partition} held elsewhere" for tp in held_elsewhere]
            raise ConsumerStalled(f"records wait and nothing moved for {self.stall_seconds:.0f}s: {stalled}",
                                  held_elsewhere=bool(held_elsewhere))

    def _note_ends(self) -> None:
        consumer = self.consumer
        if consumer is None:
            return
        for tp in consumer.assignment():
            end = consumer.highwater(tp)
            if end is not None:
                self.ends[(tp.topic, tp.partition)] = end
        for (topic, partition), behind in self.lag().items():
            CONSUMER_LAG.labels(self.name, topic, str(partition)).set(behind)

    def lag(self) -> dict[tuple[str, int], int]:
        """Messages behind the end, per partition this process reads and has applied from, as of the last
        fetch (a number the probe can have without asking a broker that may be rebalancing)."""
        assigned = {(tp.topic, tp.partition) for tp in self.consumer.assignment()} if self.consumer else set()
        return {where: max(0, end - self.applied[where]) for where, end in self.ends.items()
                if where in assigned and where in self.applied}

    async def process(self, records: list[ConsumerRecord]) -> None:
        """Apply a partition's batch (or a merged fetch's) in one transaction, again from the start if the database
        aborted it (deadlock, serialization); dead letters are published after it."""
        async for attempt in AsyncRetrying(retry=retry_if_exception(is_transient), stop=stop_after_attempt(5),
                                           wait=wait_random_exponential(multiplier=0.05, max=2), reraise=True):
            with attempt:
                dead, applied = await self._process_once(records)
        for event_type in applied:
            EVENTS_APPLIED.labels(self.name, event_type).inc()
        if dead:
            DEAD_LETTERS.labels(self.name).inc(len(dead))
        for letter in dead:
            await self._publish_dead_letter(letter)

    async def _process_once(self, records: list[ConsumerRecord]) -> tuple[list[dict[str, Any]], list[str]]:
        """Dead letters to publish, and the types of the events applied (repeats skipped)."""
        dead: list[dict[str, Any]] = []
        applied: list[str] = []
        async with self.engine.begin() as conn:
            wanted: list[tuple[ConsumerRecord, EventEnvelope]] = []
            for record in records:
                if not self._wanted(record):
                    continue
                try:
                    envelope = from_message(record.value, record.headers)
                except PoisonMessage as exc:
                    dead.append(await self._dead_letter(conn, record, None, str(exc), attempts=1))
                    continue
                if envelope.event_type in self.handlers:
                    wanted.append((record, envelope))
            claimed = await self._claim(conn, [env.event_id for _, env in wanted])
            todo = []
            for record, envelope in wanted:
                if envelope.event_id in claimed:
                    claimed.discard(envelope.event_id)
                    todo.append((record, envelope))
            # Runs of consecutive events for one handler keep the partition's order between handlers.
            for _, run in groupby(todo, key=lambda item: id(self.handlers[item[1].event_type])):
                items = list(run)
                if len(items) > 1 and await self._apply_run(conn, items):
                    applied += [envelope.event_type for _, envelope in items]
                    continue
                for record, envelope in items:
                    letter = await self._apply(conn, record, envelope)
                    if letter:
                        dead.append(letter)
                    else:
                        applied.append(envelope.event_type)
        return dead, applied

    async def _apply_run(self, conn: AsyncConnection, items: list[tuple[ConsumerRecord, EventEnvelope]]) -> bool:
        """Apply a run at once: with its batched handler, or a plain handler's events one after another under one
        savepoint (not one each: two round trips an event). False when the run failed and is to be applied one by
        one (only the faulty event is then set aside)."""
        handler = self.handlers[items[0][1].event_type]
        # Each event's trace still reaches this consumer: a span per event, in its own trace, over the run's work.
        spans = [self._span(envelope, run=len(items)) for _, envelope in items]
        try:
            async with conn.begin_nested():
                if isinstance(handler, Batched):
                    await handler.apply(conn, [envelope for _, envelope in items])
                else:
                    for _, envelope in items:
                        await handler(conn, envelope)
            return True
        except DBAPIError as exc:
            if is_transient(exc):
                raise
            error = repr(exc.orig or exc)
        except Exception as exc:  # noqa: BLE001 - one by one next
            error = repr(exc)
        finally:
            for span in spans:
                span.end()
        log.warning("consumer.run_failed", consumer=self.name, events=len(items), error=error)
        return False

    def _span(self, envelope: EventEnvelope, *, run: int) -> trace.Span:
        """A consumer span for an event applied in a run, child of the span that published it."""
        parent = propagate.extract({"traceparent": envelope.metadata.traceparent or ""})
        span = tracer.start_span(f"consume {envelope.event_type}", context=parent, kind=trace.SpanKind.CONSUMER)
        span.set_attribute("messaging.consumer.group.name", self.name)
        span.set_attribute("fundwatch.event_id", str(envelope.event_id))
        span.set_attribute("messaging.batch.message_count", run)
        return span

    def _wanted(self, record: ConsumerRecord) -> bool:
        """Whether a message may be for a handler, told by its `ce_type` header alone: the body of
        an event nobody here handles is never parsed (a registry part carries a thousand people)."""
        event_type = next((v for k, v in record.headers if k == "ce_type"), None)
        return event_type is None or event_type.decode(errors="replace") in self.handlers

    async def _claim(self, conn: AsyncConnection, event_ids: list[UUID]) -> set[UUID]:
        """Tracking rows for the events not applied before; returns those (the rest are repeats)."""
        if not event_ids:
            return set()
        result = await conn.execute(self._claim_stmt, {"consumer": self.name, "ids": list(dict.fromkeys(event_ids))})
        return set(result.scalars())

    async def _apply(self, conn: AsyncConnection, record: ConsumerRecord, envelope: EventEnvelope
                     ) -> dict[str, Any] | None:
        handler = self.handlers[envelope.event_type]
        parent = propagate.extract({"traceparent": envelope.metadata.traceparent or ""})
        error = ""
        for attempt in range(1, self.max_attempts + 1):
            with tracer.start_as_current_span(
                f"consume {envelope.event_type}", context=parent, kind=trace.SpanKind.CONSUMER
            ) as span:
                span.set_attribute("messaging.consumer.group.name", self.name)
                span.set_attribute("fundwatch.event_id", str(envelope.event_id))
                try:
                    async with conn.begin_nested():
                        await apply_one(handler, conn, envelope)
                    return None
                except DBAPIError as exc:
                    if is_transient(exc):
                        raise
                    error = repr(exc.orig or exc)
                except Exception as exc:  # noqa: BLE001 - a failing handler must not block the partition
                    error = repr(exc)
                span.set_status(trace.Status(trace.StatusCode.ERROR, error))
            log.warning("consumer.handler_failed", consumer=self.name, event_type=envelope.event_type,
                        event_id=str(envelope.event_id), attempt=attempt, error=error)
        return await self._dead_letter(conn, record, envelope, error, attempts=self.max_attempts)

    async def _dead_letter(
        self, conn: AsyncConnection, record: ConsumerRecord, envelope: EventEnvelope | None, error: str, *, attempts: int
    ) -> dict[str, Any]:
        letter = {
            "consumer": self.name,
            "topic": record.topic,
            "partition": record.partition,
            "offset": record.offset,
            "event_id": envelope.event_id if envelope else None,
            "event_type": envelope.event_type if envelope else None,
            "key": record.key.decode(errors="replace") if record.key else None,
            "headers": header_dict(record.headers),
            "value": record.value,
            "error": error,
            "attempts": attempts,
        }
        await conn.execute(insert(self.tables.dead_letters).values(**letter))
        log.error("consumer.dead_letter", consumer=self.name, topic=record.topic,
                  partition=record.partition, offset=record.offset, error=error)
        return letter

    async def _publish_dead_letter(self, letter: dict[str, Any]) -> None:
        headers = [(k, v.encode()) for k, v in letter["headers"].items()]
        headers += [("fw_dlq_consumer", self.name.encode()), ("fw_dlq_error", letter["error"][:1000].encode()),
                    ("fw_dlq_origin", f"{letter['topic']}/{letter['partition']}/{letter['offset']}".encode())]
        try:
            await self.producer.send_and_wait(
                DEAD_LETTER_TOPIC, value=letter["value"], key=(letter["key"] or "").encode(), headers=headers
            )
        except Exception as exc:  # noqa: BLE001 - the table row is the durable record
            log.warning("consumer.dead_letter_publish_failed", consumer=self.name, error=repr(exc),
                        detail=orjson.dumps({"topic": letter["topic"], "offset": letter["offset"]}).decode())

    async def stop(self) -> None:
        if self.consumer:
            with contextlib.suppress(Exception):
                await self.consumer.stop()

