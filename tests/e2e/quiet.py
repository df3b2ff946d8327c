"""Waiting until the platform has nothing in flight: every service's outbox published, and every consumer
group's committed offsets at the end of its topics. A test that checks for the *absence* of something (an ID
number in a log line or a table) waits for this instead of sleeping: on a slow machine a sleep can end before
the last consumer has run, and the check would pass without having looked."""

import asyncio
from contextlib import AsyncExitStack

from aiokafka import AIOKafkaConsumer, TopicPartition

from tests.e2e import db

SCHEMAS = ("ledger", "payments", "performance", "alerting", "sync", "gateway")


def consumer_groups() -> dict[str, tuple[str, ...]]:
    """Each consumer group of the platform and the topics it reads, from the services' own wiring."""
    from gateway.app import spec as gateway
    from services.alerting.app import spec as alerting
    from services.ledger.app import spec as ledger
    from services.performance.app import spec as performance
    from services.sync.app import spec as sync

    return {c.name: c.topics for spec in (ledger, performance, alerting, sync, gateway) for c in spec.consumers}


class Platform:
    """What is in flight: read from the broker (offsets) and the services' outboxes."""

    def __init__(self, database_url: str, kafka: str, stack: AsyncExitStack) -> None:
        self.database_url, self.kafka, self.stack = database_url, kafka, stack
        self.groups = consumer_groups()
        self.members: dict[str, AIOKafkaConsumer] = {}
        self.reader: AIOKafkaConsumer | None = None
        self.partitions: list[TopicPartition] = []

    async def open(self) -> None:
        self.reader = await self._started(AIOKafkaConsumer(bootstrap_servers=self.kafka))
        await self.reader.topics()  # fetches the cluster's metadata, which partitions_for_topic reads
        topics = {t for ts in self.groups.values() for t in ts}
        self.partitions = [TopicPartition(t, p) for t in sorted(topics) for p in self.reader.partitions_for_topic(t)]
        for group in self.groups:
            # A member that never subscribes reads the group's committed offsets without joining it.
            self.members[group] = await self._started(
                AIOKafkaConsumer(bootstrap_servers=self.kafka, group_id=group, enable_auto_commit=False))

    async def _started(self, consumer: AIOKafkaConsumer) -> AIOKafkaConsumer:
        await consumer.start()
        self.stack.push_async_callback(consumer.stop)
        return consumer

    async def in_flight(self) -> int:
        """Records not yet consumed, plus events not yet published. Committed offsets are read before the
        ends (both only grow), so a count of 0 means nothing was left at the moment the ends were read.

        The embedded broker answers an end offset one past the *first* record of the partition's last batch
        (measured: ten records at 6–15 give 7), so a committed offset may pass it, and 0 means each group has
        taken the last batch of each partition. A group commits what it fetched together, up to 500 records:
        unless the last batch was larger, that is the end of the partition."""
        committed = {(group, tp): await member.committed(tp) or 0 for group, member in self.members.items()
                     for tp in self.partitions if tp.topic in self.groups[group]}
        ends = await self.reader.end_offsets(self.partitions)
        unconsumed = sum(max(0, ends[tp] - offset) for (_, tp), offset in committed.items())
        unpublished = sum([(await db.fetch(self.database_url, f"SELECT count(*) AS n FROM {schema}.outbox"
                                                 " WHERE published_at IS NULL"))[0]["n"]
                           for schema in SCHEMAS])
        return unconsumed + unpublished


def settle(servers, timeout: float = 60) -> None:
    """Return once nothing is in flight twice in a row (an event published between reading the ends and the
    outboxes shows in the next reading); AssertionError naming what is left after `timeout` s."""
    async def wait() -> int:
        async with AsyncExitStack() as stack:
            platform = Platform(servers.database_url, servers.kafka_bootstrap, stack)
            await platform.open()
            loop = asyncio.get_running_loop()
            deadline, quiet_readings, left = loop.time() + timeout, 0, 0
            while quiet_readings < 2 and loop.time() < deadline:
                left = await platform.in_flight()
                quiet_readings = quiet_readings + 1 if left == 0 else 0
                await asyncio.sleep(0.2)
            return left if quiet_readings < 2 else 0

    left = asyncio.run(wait())
    assert left == 0, f"{left} events still unpublished or unconsumed after {timeout} s"
