"""Test fixtures: the real PostgreSQL and Kafka-protocol broker the suite needs, started by
the suite itself (embedded) unless DATABASE_URL / KAFKA_BOOTSTRAP point at running servers."""

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from backbone.clock import Clock, clock
from backbone.settings import Settings, get_settings
from backbone.workdays import SHANGHAI
from deploy.local.servers import EmbeddedBroker, EmbeddedPostgres, create_database, free_port

ROOT = Path(__file__).resolve().parents[1]
TEST_DATA = ROOT / ".data" / "test"
# The suite lives on this day whatever the date it runs on: a working Tuesday, far from a month's end, so that
# the running scheduler closes no month a test closes itself. The test process and every service it starts share
# the shift (FUNDWATCH_CLOCK_OFFSET_SECONDS, development only); time still passes from there.
SUITE_STARTS_AT = datetime(2026, 11, 10, 9, 30, tzinfo=SHANGHAI)
os.environ["FUNDWATCH_ENV"] = "development"
os.environ["FUNDWATCH_CLOCK_OFFSET_SECONDS"] = str(Clock.offset_to(SUITE_STARTS_AT).total_seconds())
get_settings.cache_clear()
clock.cache_clear()


@dataclass
class Servers:
    database_url: str
    kafka_bootstrap: str
    broker: EmbeddedBroker | None
    postgres: EmbeddedPostgres | None = None

    def settings(self, **overrides: object) -> Settings:
        given = {"DATABASE_URL": self.database_url, "KAFKA_BOOTSTRAP": self.kafka_bootstrap} | overrides
        return Settings(_env_file=None, **given)  # type: ignore[arg-type]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The chaos suite kills every part of the shared stack: it comes after the other tests, and the fuzz after
    it, on the stack that came back (the fuzz also leaves generated records everywhere, and may lock accounts)."""
    items.sort(key=lambda item: (item.get_closest_marker("fuzz") is not None,
                                 item.get_closest_marker("chaos") is not None))


@pytest.fixture(scope="session")
def stack(servers: Servers) -> Iterator[object]:
    """Every service as a process, with the province simulator (tests/e2e/conftest.py: `Stack`)."""
    from tests.e2e.conftest import started_stack

    yield from started_stack(servers)


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

    found = Servers(database_url, kafka, broker, postgres)
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
