"""The PostgreSQL event store: append with optimistic concurrency, read a stream, read all.

Every append also writes an outbox row in the same transaction; the relay publishes from
there (see `backbone.outbox`). Inline projections run inside the appending transaction.

Why it is long (over 300 lines): it is the one way events are written and read. Appending
(one stream with its expected version, or many new streams, by COPY when there are many),
the outbox row and the inline projections of each append, and the reads (a stream, the
whole feed behind a `FeedCursor`) share the rows' shape and `envelope_from_row`; split, the
write and read sides could drift apart.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

import asyncpg
import orjson
from opentelemetry import propagate
from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.clock import clock
from backbone.db import COPY_THRESHOLD, bulk_insert, json_dumps
from backbone.errors import ConcurrencyConflict, EventTooLarge
from backbone.tables import PlumbingTables
from contracts.envelope import DomainEvent, EventEnvelope, EventMetadata

InlineProjection = Callable[[AsyncConnection, Sequence[EventEnvelope]], Awaitable[None]]

UNIQUE_VIOLATION = "23505"
# What one event may weigh as JSON: below the producer's and the broker's message limits (1 MiB), with room for
# the CloudEvents headers. An event above it could never be published, and would hold back every event after it.
MAX_EVENT_BYTES = 768 * 1024
_COPY_COLUMNS = ("position", "event_id", "stream_id", "stream_type", "version", "event_type", "schema_version",
                 "occurred_at", "metadata", "payload", "partition_key")



def is_unique_violation(exc: IntegrityError) -> bool:
    """Whether a database error is a unique-constraint violation."""
    orig = exc.orig
    return getattr(orig, "sqlstate", None) == UNIQUE_VIOLATION or getattr(orig, "pgcode", None) == UNIQUE_VIOLATION


def current_traceparent() -> str | None:
    """The W3C traceparent of the active span, to store with an event."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


@dataclass(frozen=True)
class FeedCursor:
    """Where a reader of the whole store stands: (transaction id, position).

    Ordering by transaction id and reading only below the oldest running transaction means
    an event whose position was taken by a transaction that commits late is never skipped.
    """

    tx_id: int = 0
    position: int = 0

    def __str__(self) -> str:
        return f"{self.tx_id}-{self.position}"

    @classmethod
    def parse(cls, value: str | None) -> "FeedCursor":
        if not value:
            return cls()
        tx, _, pos = value.partition("-")
        return cls(int(tx), int(pos))


@dataclass(frozen=True)
class NewStream:
    """A stream to create in a bulk append: fails as a duplicate when it exists already."""

    stream_id: str
    stream_type: str
    events: Sequence["DomainEvent | PreparedEvent"]
    partition_key: str | None = None


@dataclass(frozen=True)
class StreamAppend:
    """Events to append to one stream after the version its writer read, in a bulk append of several streams."""

    stream_id: str
    stream_type: str
    expected_version: int
    events: Sequence[DomainEvent]
    meta: EventMetadata
    partition_key: str | None = None


@dataclass(frozen=True)
class PreparedEvent:
    """An event already validated and turned into its JSON form, e.g. in a worker process that
    reads a large file: the store writes it as it is instead of serialising it again."""

    event_type: str
    schema_version: int
    payload: dict[str, Any]

    @classmethod
    def of(cls, event: DomainEvent) -> "PreparedEvent":
        return cls(event.event_type, event.schema_version, event.model_dump(mode="json"))


@dataclass
class EventStore:
    """Append-only store of one service's events, in that service's schema."""

    tables: PlumbingTables
    source: str
    inline_projections: list[InlineProjection] = field(default_factory=list)
    max_event_bytes: int = MAX_EVENT_BYTES

    @property
    def notify_channel(self) -> str:
        return f"{self.tables.schema}_events"

    def metadata(self, *, actor: str, org_unit: str | None = None, traceparent: str | None = None,
                 **ids: str | None) -> EventMetadata:
        """Metadata for events caused now, carrying the active trace unless another is given."""
        return EventMetadata(actor=actor, org_unit=org_unit, source=self.source,
                             traceparent=traceparent or current_traceparent(), **ids)

    def _rows(
        self, stream_id: str, stream_type: str, start_version: int, events: Sequence[DomainEvent | PreparedEvent],
        meta: EventMetadata,
        partition_key: str | None = None,
    ) -> list[dict[str, Any]]:
        now = clock().now()
        meta_json = meta.model_dump(mode="json")
        rows = []
        for i, event in enumerate(events, start=1):
            payload = event.payload if isinstance(event, PreparedEvent) else event.model_dump(mode="json")
            self._check_size(event.event_type, payload)
            rows.append({
                "event_id": uuid4(),
                "stream_id": stream_id,
                "stream_type": stream_type,
                "version": start_version + i,
                "event_type": event.event_type,
                "schema_version": event.schema_version,
                "occurred_at": now,
                "metadata": meta_json,
                "payload": payload,
                "partition_key": partition_key,
            })
        return rows

    def _check_size(self, event_type: str, payload: dict[str, Any]) -> None:
        size = len(orjson.dumps(payload))
        if size > self.max_event_bytes:
            raise EventTooLarge(
                f"this would record a {event_type} event of {size} bytes; an event carries at most "
                f"{self.max_event_bytes} bytes: send less at once", event_type=event_type, size=size,
                limit=self.max_event_bytes)

    async def append(
        self,
        conn: AsyncConnection,
        *,
        stream_id: str,
        stream_type: str,
        expected_version: int,
        events: Sequence[DomainEvent | PreparedEvent],
        meta: EventMetadata,
        partition_key: str | None = None,
    ) -> list[EventEnvelope]:
        """Append events after `expected_version`; someone else's append first is a conflict.

        A conflict aborts the caller's transaction: retry the whole command on fresh state.
        """
        if expected_version > 0:
            # A new stream needs no lookup: an existing one collides on (stream_id, version 1).
            current = await self.version(conn, stream_id)
            if current != expected_version:
                raise ConcurrencyConflict(
                    f"stream {stream_id} is at version {current}, not {expected_version}",
                    stream_id=stream_id, expected_version=expected_version, actual_version=current,
                )
        try:
            stored = await self._insert(
                conn, self._rows(stream_id, stream_type, expected_version, events, meta, partition_key), meta)
        except IntegrityError as exc:
            if not is_unique_violation(exc):
                raise
            raise ConcurrencyConflict(
                f"stream {stream_id} was appended to by someone else first",
                stream_id=stream_id, expected_version=expected_version,
            ) from exc
        await self._after_append(conn, stored)
        return stored

    async def create_streams(
        self, conn: AsyncConnection, streams: Sequence[NewStream], meta: EventMetadata
    ) -> tuple[list[EventEnvelope], set[str]]:
        """Create many new streams at once; returns what was stored and the ids that existed."""
        rows = [r for s in streams for r in self._rows(s.stream_id, s.stream_type, 0, s.events, meta, s.partition_key)]
        if not rows:
            return [], set()
        stored = None
        if len(rows) >= COPY_THRESHOLD:
            try:
                async with conn.begin_nested():
                    stored = await self._copy(conn, rows, meta)
            except (IntegrityError, asyncpg.UniqueViolationError):
                # Someone created some of these streams meanwhile: let INSERT … ON CONFLICT sort them out.
                stored = None
        if stored is None:
            stored = await self._insert_new(conn, rows, meta)
        else:
            await bulk_insert(conn, self.tables.outbox, [{"event_position": e.position} for e in stored])
        created = {e.stream_id for e in stored}
        existing = {s.stream_id for s in streams} - created
        for projection in self.inline_projections:
            await projection(conn, stored)
        return stored, existing

    async def _insert_new(self, conn: AsyncConnection, rows: list[dict[str, Any]], meta: EventMetadata
                          ) -> list[EventEnvelope]:
        """New streams' events and their outbox rows in one statement, each column as one array: asyncpg encodes
        an array in C, where SQLAlchemy's executemany handles every value of every row in Python (most of a
        batch's intake time); the metadata, alike for all, goes once. A stream that exists is left out."""
        result = await conn.execute(self._insert_new_arrays, {
            "event_id": [r["event_id"] for r in rows], "stream_id": [r["stream_id"] for r in rows],
            "stream_type": [r["stream_type"] for r in rows], "version": [r["version"] for r in rows],
            "event_type": [r["event_type"] for r in rows], "schema_version": [r["schema_version"] for r in rows],
            "occurred_at": [r["occurred_at"] for r in rows], "payload": [json_dumps(r["payload"]) for r in rows],
            "partition_key": [r["partition_key"] for r in rows], "metadata": json_dumps(rows[0]["metadata"])})
        positions = {event_id: position for position, event_id in result.all()}
        return [EventEnvelope.model_construct(**{**row, "metadata": meta}, position=positions[row["event_id"]])
                for row in rows if row["event_id"] in positions]

    async def append_streams(self, conn: AsyncConnection, appends: Sequence[StreamAppend]) -> list[EventEnvelope]:
        """Appends to several streams in one statement, each with its own metadata, in the order given (one stream
        may come twice, the second after the first's events). Each expected version is what the caller read in
        this transaction: someone else's append first collides on (stream_id, version), a ConcurrencyConflict."""
        rows, metas = [], []
        for a in appends:
            built = self._rows(a.stream_id, a.stream_type, a.expected_version, a.events, a.meta, a.partition_key)
            rows += built
            metas += [a.meta] * len(built)
        if not rows:
            return []
        try:
            result = await conn.execute(self._insert_events, rows)
        except IntegrityError as exc:
            if not is_unique_violation(exc):
                raise
            raise ConcurrencyConflict(f"one of {len(appends)} streams was appended to by someone else first",
                                      stream_id=appends[0].stream_id, expected_version=appends[0].expected_version
                                      ) from exc
        positions = {event_id: position for position, event_id in result.all()}
        stored = [EventEnvelope.model_construct(**{**row, "metadata": meta}, position=positions[row["event_id"]])
                  for row, meta in zip(rows, metas, strict=True)]
        await self._after_append(conn, stored)
        return stored

    def __post_init__(self) -> None:
        # Built once: executing the same statement object skips SQLAlchemy's per-call compile.
        ev = self.tables.events
        self._insert_events = insert(ev).returning(ev.c.position, ev.c.event_id)
        schema = self.tables.schema
        # Rows in array order (ORDINALITY), so that positions and outbox ids follow the order the streams came in.
        self._insert_new_arrays = text(f"""
            WITH given AS (
                SELECT * FROM unnest(CAST(:event_id AS uuid[]), CAST(:stream_id AS text[]),
                                     CAST(:stream_type AS text[]), CAST(:version AS int[]),
                                     CAST(:event_type AS text[]), CAST(:schema_version AS int[]),
                                     CAST(:occurred_at AS timestamptz[]), CAST(:payload AS text[]),
                                     CAST(:partition_key AS text[]))
                    WITH ORDINALITY AS g(event_id, stream_id, stream_type, version, event_type, schema_version,
                                         occurred_at, payload, partition_key, n)),
            stored AS (
                INSERT INTO {schema}.events (event_id, stream_id, stream_type, version, event_type, schema_version,
                                             occurred_at, metadata, payload, partition_key)
                SELECT event_id, stream_id, stream_type, version, event_type, schema_version, occurred_at,
                       CAST(:metadata AS jsonb), CAST(payload AS jsonb), partition_key
                FROM given ORDER BY n
                ON CONFLICT (stream_id, version) DO NOTHING
                RETURNING position, event_id),
            queued AS (INSERT INTO {schema}.outbox (event_position) SELECT position FROM stored ORDER BY position)
            SELECT position, event_id FROM stored""")

    async def _insert(
        self, conn: AsyncConnection, rows: list[dict[str, Any]], meta: EventMetadata
    ) -> list[EventEnvelope]:
        result = await conn.execute(self._insert_events, rows)
        positions = {event_id: position for position, event_id in result.all()}
        # Built from values this store made itself a moment ago: no need to validate them again.
        return [
            EventEnvelope.model_construct(**{**row, "metadata": meta}, position=positions[row["event_id"]])
            for row in rows
            if row["event_id"] in positions
        ]

    async def _copy(self, conn: AsyncConnection, rows: list[dict[str, Any]], meta: EventMetadata
                    ) -> list[EventEnvelope]:
        """Many new streams at once through COPY: an order of magnitude faster than INSERT for imports.

        Streams that exist already are left out first; one created concurrently makes the COPY
        fail on the unique key, and the caller falls back to INSERT … ON CONFLICT.
        """
        raw = (await conn.get_raw_connection()).driver_connection
        schema = self.tables.schema
        new_ids = [r["stream_id"] for r in rows if r["version"] == 1]
        existing = {r["stream_id"] for r in await raw.fetch(
            f"SELECT stream_id FROM {schema}.events WHERE version = 1 AND stream_id = ANY($1::text[])", new_ids)}
        rows = [r for r in rows if r["stream_id"] not in existing]
        if not rows:
            return []
        positions = sorted(p for (p,) in await raw.fetch(
            f"SELECT nextval(pg_get_serial_sequence('{schema}.events', 'position')) FROM generate_series(1, $1)",
            len(rows)))
        await raw.copy_records_to_table(
            "events", schema_name=schema, columns=list(_COPY_COLUMNS),
            records=[(pos, r["event_id"], r["stream_id"], r["stream_type"], r["version"], r["event_type"],
                      r["schema_version"], r["occurred_at"], json_dumps(r["metadata"]), json_dumps(r["payload"]),
                      r["partition_key"]) for pos, r in zip(positions, rows, strict=True)])
        return [EventEnvelope.model_construct(**{**row, "metadata": meta}, position=pos)
                for pos, row in zip(positions, rows, strict=True)]

    async def _after_append(self, conn: AsyncConnection, stored: list[EventEnvelope]) -> None:
        if not stored:
            return
        await bulk_insert(conn, self.tables.outbox, [{"event_position": e.position} for e in stored])
        for projection in self.inline_projections:
            await projection(conn, stored)

    async def version(self, conn: AsyncConnection, stream_id: str) -> int:
        """The version a stream stands at (0: it does not exist)."""
        ev = self.tables.events
        return await conn.scalar(select(func.coalesce(func.max(ev.c.version), 0)).where(ev.c.stream_id == stream_id))

    async def read_stream(self, conn: AsyncConnection, stream_id: str) -> list[EventEnvelope]:
        """Every event of one stream, in version order."""
        ev = self.tables.events
        result = await conn.execute(select(ev).where(ev.c.stream_id == stream_id).order_by(ev.c.version))
        return [envelope_from_row(row._mapping) for row in result]

    async def read_all(
        self, conn: AsyncConnection, after: FeedCursor, *, limit: int = 500, event_types: Sequence[str] | None = None
    ) -> list[tuple[FeedCursor, EventEnvelope]]:
        """Committed events after a cursor, in commit-safe order, never skipping a late commit."""
        sql = f"""
            SELECT e.*, CAST(CAST(e.tx_id AS text) AS bigint) AS tx
            FROM {self.tables.schema}.events e
            WHERE (e.tx_id, e.position) > (CAST(CAST(:tx AS text) AS xid8), :pos)
              AND e.tx_id < pg_snapshot_xmin(pg_current_snapshot())
              {"AND e.event_type = ANY(:types)" if event_types else ""}
            ORDER BY e.tx_id, e.position
            LIMIT :limit
        """
        params: dict[str, Any] = {"tx": str(after.tx_id), "pos": after.position, "limit": limit}
        if event_types:
            params["types"] = list(event_types)
        result = await conn.execute(text(sql), params)
        return [(FeedCursor(row.tx, row.position), envelope_from_row(row._mapping)) for row in result]


    async def head(self, conn: AsyncConnection) -> FeedCursor:
        """The cursor after the newest event `read_all` can return now: where a live reader starts."""
        row = (await conn.execute(text(f"""
            SELECT CAST(CAST(tx_id AS text) AS bigint) AS tx, position FROM {self.tables.schema}.events
            WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot())
            ORDER BY tx_id DESC, position DESC LIMIT 1
        """))).first()
        return FeedCursor(row.tx, row.position) if row else FeedCursor()


def envelope_from_row(row: Any) -> EventEnvelope:
    """An envelope from a stored `events` row."""
    return EventEnvelope(
        event_id=row["event_id"],
        stream_id=row["stream_id"],
        stream_type=row["stream_type"],
        version=row["version"],
        event_type=row["event_type"],
        schema_version=row["schema_version"],
        occurred_at=row["occurred_at"],
        metadata=EventMetadata(**row["metadata"]),
        payload=row["payload"],
        position=row["position"],
        partition_key=row["partition_key"],
    )
