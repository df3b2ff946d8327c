"""The audit trail's table and its one writer: entries queued in memory, appended in batches to one chain.

A request never waits for the database: the middleware puts its entry on a bounded in-memory queue,
and a task of each gateway process appends what has gathered, up to 500 entries per transaction,
about every 200 ms and once more at shutdown. What that costs: entries still queued when a process
dies without shutting down (killed, out of memory) are lost, at most the last fraction of a second
of writes. While the database is away the queue fills, and once it is full requests wait for room
rather than go unrecorded.

Gateways on several replicas keep one chain: each append takes a transaction-level advisory lock and
reads the last entry under it, so appends are serialised and sequence numbers have no gaps. The
table refuses UPDATE, DELETE and TRUNCATE (a trigger); only `prune` removes entries, those past the
retention period (180 days at least), as a DBA's deliberate act that leaves an entry of its own.
"""

import asyncio
import zlib
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import BigInteger, Column, DateTime, Table, Text, Uuid, delete, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

import structlog

from backbone.clock import clock
from gateway.audit.chain import (GENESIS, PRUNED, RETENTION, AuditEntry, ChainCheck, Verdict, link,
                                 prune_target)
from gateway.projections import metadata

log = structlog.get_logger(__name__)

audit_log = Table(
    "audit_log", metadata,
    Column("seq", BigInteger, primary_key=True), Column("at", DateTime(timezone=True)), Column("actor", Text),
    Column("org_unit", Text), Column("client_ip", Text), Column("action", Text), Column("target", Text),
    Column("outcome", Text), Column("trace_id", Text), Column("event_id", Uuid, unique=True), Column("prev_hash", Text),
    Column("hash", Text),
)
LOCK_KEY = zlib.crc32(b"gateway.audit_log")
_LOCK = text("SELECT pg_advisory_xact_lock(:k)")
_LAST = select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)


async def append_entries(conn: AsyncConnection, entries: Sequence[AuditEntry]) -> int:
    """Chain entries onto the trail in the caller's transaction; an entry of an event already recorded is skipped."""
    await conn.execute(_LOCK, {"k": LOCK_KEY})
    event_ids = [e.event_id for e in entries if e.event_id is not None]
    if event_ids:
        known = set((await conn.execute(select(audit_log.c.event_id)
                                        .where(audit_log.c.event_id.in_(event_ids)))).scalars())
        entries = [e for e in entries if e.event_id not in known]
    if not entries:
        return 0
    # Read under the lock: the last entry is the one every other writer sees too.
    last = (await conn.execute(_LAST)).first()
    rows = link(entries, last_seq=last.seq if last else 0, last_hash=last.hash if last else GENESIS)
    await conn.execute(audit_log.insert(), rows)
    return len(rows)


async def verify_stored(engine: AsyncEngine, *, chunk: int = 5000) -> Verdict:
    """Verify the stored chain from its first entry, reading it in order a chunk at a time."""
    check = ChainCheck()
    after = 0
    async with engine.connect() as conn:
        while True:
            rows = (await conn.execute(select(audit_log).where(audit_log.c.seq > after)
                                       .order_by(audit_log.c.seq).limit(chunk))).all()
            if not rows or not check.feed(r._mapping for r in rows):
                return check.verdict()
            after = rows[-1].seq


async def prune(engine: AsyncEngine, *, before: datetime, actor: str) -> int:
    """Remove the entries older than `before` (which must lie past the retention period) and append the
    prune's own entry naming the last one removed, in one transaction; how many were removed. Needs the
    table owner's rights, to lift the append-only trigger for that transaction only."""
    if clock().now() - before < RETENTION:
        raise ValueError(f"entries are kept at least {RETENTION.days} days")
    async with engine.begin() as conn:
        await conn.execute(_LOCK, {"k": LOCK_KEY})
        last = (await conn.execute(select(audit_log.c.seq, audit_log.c.at, audit_log.c.hash)
                                   .where(audit_log.c.at < before).order_by(audit_log.c.seq.desc()).limit(1))).first()
        if last is None:
            return 0
        await conn.exec_driver_sql("ALTER TABLE gateway.audit_log DISABLE TRIGGER audit_log_append_only")
        removed = (await conn.execute(delete(audit_log).where(audit_log.c.seq <= last.seq))).rowcount
        await conn.exec_driver_sql("ALTER TABLE gateway.audit_log ENABLE TRIGGER audit_log_append_only")
        await append_entries(conn, [AuditEntry(
            at=clock().now(), actor=actor, org_unit=None, client_ip=None, action=PRUNED,
            target=prune_target(last.seq, last.at, last.hash), outcome=str(removed), trace_id=None)])
    return removed


class AuditTrail:
    """The per-process writer: `record` queues an entry, a background task appends batches."""

    def __init__(self, engine: AsyncEngine, *, batch_size: int = 500, interval: float = 0.2,
                 capacity: int = 10_000) -> None:
        self.engine = engine
        self.batch_size = batch_size
        self.interval = interval
        self._queue: asyncio.Queue[AuditEntry] = asyncio.Queue(capacity)
        self._writing: list[AuditEntry] = []
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    async def record(self, entry: AuditEntry) -> None:
        """Queue an entry; returns at once unless the queue is full."""
        await self._queue.put(entry)

    def start(self) -> asyncio.Task[None]:
        self._task = asyncio.create_task(self._run(), name="audit-trail")
        return self._task

    async def stop(self, *, grace: float = 5.0) -> None:
        """Append what is queued, then end; what the database does not take within `grace` seconds is lost."""
        if self._task is None:
            return
        self._stopping = True
        try:
            await asyncio.wait_for(asyncio.shield(self._task), grace)
        except TimeoutError:
            self._task.cancel()
            log.error("audit.entries_lost", entries=len(self._writing) + self._queue.qsize())

    async def _run(self) -> None:
        while True:
            self._writing = await self._gather()
            if self._writing:
                await self._append(self._writing)
                self._writing = []
            elif self._stopping:
                return

    async def _gather(self) -> list[AuditEntry]:
        """The next batch: whatever arrives within `interval` of its first entry, up to `batch_size`."""
        try:
            first = await asyncio.wait_for(self._queue.get(), self.interval)
        except TimeoutError:
            return []
        if self._queue.qsize() < self.batch_size - 1 and not self._stopping:
            await asyncio.sleep(self.interval)
        return [first, *(self._queue.get_nowait() for _ in range(min(self._queue.qsize(), self.batch_size - 1)))]

    async def _append(self, batch: list[AuditEntry]) -> None:
        """Append a batch, waiting out a database outage (the entries stay in memory meanwhile)."""
        delay = 0.5
        while True:
            try:
                async with self.engine.begin() as conn:
                    await append_entries(conn, batch)
                return
            except Exception as exc:  # noqa: BLE001 - the trail must outlive an outage
                log.warning("audit.append_failed", entries=len(batch), error=repr(exc), retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
