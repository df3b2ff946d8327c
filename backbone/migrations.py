"""Run a service's alembic migrations against its schema."""

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from backbone.db import create_engine, sqlalchemy_url

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


def service_role(service: str) -> str:
    """The database role a service's pods connect as, where the deployment made one (deploy/k8s/infra)."""
    return f"fundwatch_{service}"


async def grant_service_roles(database_url: str, services: tuple[str, ...] = MIGRATED_SERVICES) -> list[str]:
    """Give each service's own role (where it exists) its schema and nothing else: a service taken over reads
    and writes its own tables, never another's (the payments' encrypted ID numbers, the gateway's accounts).
    The schema stays the owner's, so a service cannot change its tables' shape either. Returns the roles given."""
    engine = create_engine(database_url, pool_size=1)
    granted = []
    try:
        async with engine.begin() as conn:
            for service in services:
                role = service_role(service)
                if not await conn.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}):
                    continue
                for statement in (
                    f'GRANT USAGE ON SCHEMA "{service}" TO "{role}"',
                    f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{service}" TO "{role}"',
                    f'GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA "{service}" TO "{role}"',
                    f'ALTER DEFAULT PRIVILEGES IN SCHEMA "{service}" GRANT SELECT, INSERT, UPDATE, DELETE '
                    f'ON TABLES TO "{role}"',
                    f'ALTER DEFAULT PRIVILEGES IN SCHEMA "{service}" GRANT USAGE, SELECT, UPDATE '
                    f'ON SEQUENCES TO "{role}"',
                ):
                    await conn.execute(text(statement))
                granted.append(role)
    finally:
        await engine.dispose()
    return granted
