"""Run a service's alembic migrations against its schema."""

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

from backbone.db import sqlalchemy_url

ALEMBIC_DIR = Path(__file__).parent / "alembic"
ROOT = Path(__file__).resolve().parent.parent
MIGRATED_SERVICES = ("ledger", "payments", "performance", "alerting", "sync", "gateway")


def migrations_dir(service: str) -> Path:
    """Where a service keeps its migration scripts."""
    base = ROOT / "gateway" if service == "gateway" else ROOT / "services" / service
    return base / "migrations"


def _config(service: str, database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(ALEMBIC_DIR))
    cfg.set_main_option("version_locations", str(migrations_dir(service)))
    cfg.attributes["schema"] = service
    cfg.attributes["url"] = sqlalchemy_url(database_url)
    return cfg


def upgrade(service: str, database_url: str) -> None:
    """Bring one service's schema to the newest revision (blocking; alembic runs its own loop)."""
    command.upgrade(_config(service, database_url), "heads")


async def upgrade_all(database_url: str, services: tuple[str, ...] = MIGRATED_SERVICES) -> None:
    """Migrate every service, off the event loop."""
    for service in services:
        await asyncio.to_thread(upgrade, service, database_url)
