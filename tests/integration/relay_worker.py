"""A relay in its own process, so a test can SIGKILL it: `python tests/integration/relay_worker.py SCHEMA TOPIC`."""

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import MetaData  # noqa: E402

from backbone.bus import create_producer  # noqa: E402
from backbone.db import create_engine  # noqa: E402
from backbone.eventstore import EventStore  # noqa: E402
from backbone.outbox import OutboxRelay  # noqa: E402
from backbone.settings import get_settings  # noqa: E402
from backbone.tables import plumbing_tables  # noqa: E402


async def main(schema: str, topic: str) -> None:
    settings = get_settings()
    engine = create_engine(settings.database_url)
    producer = create_producer(settings)
    await producer.start()
    store = EventStore(plumbing_tables(MetaData(schema=schema)), source="testkit")
    relay = OutboxRelay(engine=engine, store=store, producer=producer, topic_of=lambda _: topic, batch_size=50, poll_seconds=0.1)
    await relay.run()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
