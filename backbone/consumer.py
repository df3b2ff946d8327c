"""The one consumer runner: consumer groups, idempotent effects, dead letters.

Each batch is applied in one transaction. Every event's effect and its tracking row
(`processed_events`) commit together, so a redelivered event changes nothing; offsets are
committed to Kafka only after the transaction. A handler that keeps failing sends its event
to the dead-letter table and topic and the partition moves on.
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from opentelemetry import propagate, trace
from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

import structlog

from backbone.bus import PoisonMessage, from_message
from backbone.tables import PlumbingTables
from contracts.catalog import DEAD_LETTER_TOPIC
from contracts.envelope import EventEnvelope

log = structlog.get_logger(__name__)
tracer = trace.get_tracer(__name__)

Handler = Callable[[AsyncConnection, EventEnvelope], Awaitable[None]]


class ConsumerRunner:
    """Consumes topics as one consumer group and applies handlers by event type."""

    def __init__(
        self,
        *,
        name: str,
        topics: tuple[str, ...],
        handlers: Mapping[str, Handler],
        engine: AsyncEngine,
        tables: PlumbingTables,
        bootstrap: str,
        producer: AIOKafkaProducer,
        max_attempts: int = 3,
        max_records: int = 500,
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
        self.consumer: AIOKafkaConsumer | None = None

    def _new_consumer(self) -> AIOKafkaConsumer:
        # The broker may forget committed offsets (in-memory Tansu): start from the earliest
        # message and let the tracking table skip what is done.
        return AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=self.bootstrap,
            group_id=self.name,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            metadata_max_age_ms=5_000,
        )

    async def run(self) -> None:
        """Consume until cancelled; a broker or database outage is waited out."""
        backoff = 0.5
        while True:
            self.consumer = self._new_consumer()
            try:
                await self.consumer.start()
                while True:
                    batch = await self.consumer.getmany(timeout_ms=500, max_records=self.max_records)
                    for tp, records in batch.items():
                        await self.process(records)
                        await self.consumer.commit({tp: records[-1].offset + 1})
                    backoff = 0.5
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - reconnect; uncommitted records come again
                log.warning("consumer.restart", consumer=self.name, error=repr(exc), retry_in=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
            finally:
                with contextlib.suppress(Exception):
                    await self.consumer.stop()

    async def process(self, records: list[ConsumerRecord]) -> None:
        """Apply a partition's batch in one transaction; dead letters are published after it."""
        dead: list[dict[str, Any]] = []
        async with self.engine.begin() as conn:
            for record in records:
                letter = await self._apply(conn, record)
                if letter:
                    dead.append(letter)
        for letter in dead:
            await self._publish_dead_letter(letter)

    async def _apply(self, conn: AsyncConnection, record: ConsumerRecord) -> dict[str, Any] | None:
        try:
            envelope = from_message(record.value, record.headers)
        except PoisonMessage as exc:
            return await self._dead_letter(conn, record, None, str(exc), attempts=1)
        handler = self.handlers.get(envelope.event_type)
        if handler is None:
            return None
        claimed = await conn.execute(
            pg_insert(self.tables.processed_events)
            .values(consumer=self.name, event_id=envelope.event_id)
            .on_conflict_do_nothing()
            .returning(self.tables.processed_events.c.event_id)
        )
        if claimed.first() is None:
            return None
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
                        await handler(conn, envelope)
                    return None
                except DBAPIError as exc:
                    if exc.connection_invalidated:
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
            "headers": {k: v.decode(errors="replace") for k, v in record.headers},
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

