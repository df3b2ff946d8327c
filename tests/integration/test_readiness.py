"""Readiness tells the truth: a service whose broker or database is down is not ready, and says which."""

import pytest
from sqlalchemy import MetaData

from backbone.bus import create_producer
from backbone.db import create_engine
from backbone.eventstore import EventStore
from backbone.notify import Notifier
from backbone.service import Runtime, readiness
from backbone.tables import plumbing_tables
from deploy.local.servers import free_port

pytestmark = pytest.mark.integration


def runtime_of(settings, database_url: str) -> Runtime:
    tables = plumbing_tables(MetaData(schema="ledger"))
    return Runtime("ledger", settings, create_engine(database_url, pool_size=1), tables,
                   EventStore(tables, source="ledger"), create_producer(settings), Notifier(database_url, "x"))


async def test_a_dead_broker_or_database_makes_a_service_not_ready_and_named(servers):
    up = runtime_of(servers.settings(), servers.database_url)
    await up.producer.start()
    try:
        assert await readiness(up) == {"checks": {"database": "ok", "broker": "ok", "consumers": {}}, "faults": []}
    finally:
        await up.producer.stop()
        await up.engine.dispose()
    dead = f"127.0.0.1:{free_port()}"
    down = runtime_of(servers.settings(KAFKA_BOOTSTRAP=dead),
                      f"postgresql://postgres@127.0.0.1:{free_port()}/fundwatch")
    try:
        report = await readiness(down)
    finally:
        await down.producer.client.close()
        await down.engine.dispose()
    assert (report["checks"]["database"], report["checks"]["broker"]) == ("unreachable", "unreachable")
    assert [f.split(":")[0] for f in report["faults"]] == ["database", "broker"]
