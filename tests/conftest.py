"""Test fixtures: the real PostgreSQL and Kafka-protocol broker the suite needs, started by
the suite itself (embedded) unless DATABASE_URL / KAFKA_BOOTSTRAP point at running servers."""

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from backbone.settings import Settings, get_settings
from deploy.local.servers import EmbeddedBroker, EmbeddedPostgres, create_database, free_port

ROOT = Path(__file__).resolve().parents[1]
TEST_DATA = ROOT / ".data" / "test"


@dataclass
class Servers:
    database_url: str
    kafka_bootstrap: str
    broker: EmbeddedBroker | None

    def settings(self, **overrides: object) -> Settings:
        return Settings(_env_file=None, DATABASE_URL=self.database_url, KAFKA_BOOTSTRAP=self.kafka_bootstrap,
                        **overrides)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    """PostgreSQL with a fresh test database, and a broker; migrated, topics created."""
    postgres = broker = None
    external_db = os.environ.get("DATABASE_URL")
    if external_db:
        server_url = external_db
    else:
        postgres = EmbeddedPostgres(TEST_DATA / "postgres")
        server_url = postgres.start()
    database_url = asyncio.run(create_database(server_url, "fundwatch_test", fresh=True))
    kafka = os.environ.get("KAFKA_BOOTSTRAP")
    if not kafka:
        broker = EmbeddedBroker(free_port(), TEST_DATA / "broker.log")
        kafka = broker.start()
    os.environ["DATABASE_URL"] = database_url
    os.environ["KAFKA_BOOTSTRAP"] = kafka
    get_settings.cache_clear()
    from deploy.migrate import prepare

    found = Servers(database_url, kafka, broker)
    asyncio.run(prepare(found.settings()))
    try:
        yield found
    finally:
        if broker:
            broker.stop()
        if postgres:
            postgres.stop()


@pytest.fixture(scope="session")
async def engine(servers: Servers) -> AsyncIterator:
    from backbone.db import create_engine

    eng = create_engine(servers.database_url)
    yield eng
    await eng.dispose()
