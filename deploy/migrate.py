"""Prepare a database and a broker for FundWatch: run every service's migrations and create
the topics. `python -m deploy.migrate` (the Kubernetes migration Job runs this too)."""

import asyncio

from backbone.bus import ensure_topics
from backbone.migrations import grant_service_roles, upgrade_all
from backbone.settings import Settings, get_settings


async def prepare(settings: Settings) -> None:
    """Migrations first (as the database's owner), each service's role its own schema, then topics."""
    await upgrade_all(settings.database_url)
    await grant_service_roles(settings.database_url)
    await ensure_topics(settings)


if __name__ == "__main__":
    asyncio.run(prepare(get_settings()))
