"""The audit trail's writer against real PostgreSQL: gateways on several replicas keep one chain,
what is queued at shutdown is written, and an event recorded twice is one entry."""

from dataclasses import replace
from datetime import timedelta
from uuid import uuid4

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import DBAPIError

from backbone.clock import clock
from backbone.db import create_engine
from backbone.migrations import upgrade_all
from deploy.local.servers import create_database
from gateway.audit.chain import AuditEntry
from gateway.audit.trail import AuditTrail, append_entries, audit_log, prune, verify_stored

pytestmark = pytest.mark.integration


def entry(actor: str, n: int, event_id=None) -> AuditEntry:
    return AuditEntry(at=clock().now(), actor=actor, org_unit="220100", client_ip="10.0.0.1",
                      action="POST /api/v1/indicators", target="/api/v1/indicators", outcome=str(200 + n % 3),
                      trace_id=None, event_id=event_id)


async def test_two_gateways_writing_at_once_keep_one_gapless_chain_and_write_all_they_queued(servers):
    # Small batches, so that the two writers take turns many times.
    engines = [create_engine(servers.database_url, pool_size=2) for _ in range(2)]
    trails = [AuditTrail(e, batch_size=7, interval=0.01) for e in engines]
    actor = f"replica-test-{uuid4().hex[:6]}"
    try:
        for trail in trails:
            trail.start()
        for n in range(300):
            await trails[n % 2].record(entry(actor, n))
        # Stopping writes whatever is still queued.
        for trail in trails:
            await trail.stop()
        async with engines[0].connect() as conn:
            mine = await conn.scalar(select(func.count()).where(audit_log.c.actor == actor))
            total, last = (await conn.execute(select(func.count(), func.max(audit_log.c.seq)))).one()
        verdict = await verify_stored(engines[0], chunk=50)
    finally:
        for engine in engines:
            await engine.dispose()
    assert mine == 300
    assert last == total, "sequence numbers without gaps"
    # The suite's running gateway may append its own entries after the count: the chain only grows.
    assert verdict.intact and verdict.entries >= total


async def test_an_event_recorded_twice_is_one_entry(engine):
    event_id = uuid4()
    actor = f"reveal-test-{uuid4().hex[:6]}"
    async with engine.begin() as conn:
        assert await append_entries(conn, [entry(actor, 0, event_id)]) == 1
    async with engine.begin() as conn:
        assert await append_entries(conn, [entry(actor, 0, event_id)]) == 0
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).where(audit_log.c.actor == actor)) == 1


async def test_only_a_recorded_prune_past_retention_removes_entries_and_the_chain_still_holds(servers):
    # A database of its own: pruning the suite's trail would remove what other tests look for.
    url = await create_database(servers.database_url, "fundwatch_audit_prune", fresh=True)
    await upgrade_all(url, ("gateway",))
    engine = create_engine(url, pool_size=2)
    now = clock().now()
    try:
        async with engine.begin() as conn:
            await append_entries(conn, [replace(entry("old", n), at=now - timedelta(days=200 - n)) for n in range(3)]
                                 + [entry("recent", n) for n in range(2)])
        with pytest.raises(ValueError, match="180 days"):
            await prune(engine, before=now - timedelta(days=30), actor="dba")
        assert await prune(engine, before=now - timedelta(days=180), actor="dba") == 3
        verdict = await verify_stored(engine)
        assert verdict.intact and (verdict.first, verdict.entries) == (4, 3), verdict.message()
        async with engine.connect() as conn:
            [record] = (await conn.execute(select(audit_log).where(audit_log.c.action == "audit.pruned"))).all()
        assert record.actor == "dba" and record.target.startswith("through entry 3 at ") and record.outcome == "3"
        # The append-only trigger is back: and rows removed behind it, with no prune that names them, are a break.
        with pytest.raises(DBAPIError, match="append-only"):
            async with engine.begin() as conn:
                await conn.execute(delete(audit_log).where(audit_log.c.seq == 4))
        async with engine.begin() as conn:
            await conn.exec_driver_sql("ALTER TABLE gateway.audit_log DISABLE TRIGGER audit_log_append_only")
            await conn.execute(delete(audit_log).where(audit_log.c.seq == 4))
            await conn.exec_driver_sql("ALTER TABLE gateway.audit_log ENABLE TRIGGER audit_log_append_only")
        verdict = await verify_stored(engine)
        assert verdict.broken and (verdict.broken.seq, verdict.broken.problem) == (5, "pruned")
    finally:
        await engine.dispose()
