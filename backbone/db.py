"""PostgreSQL connections: one async engine per process, retried at start-up."""

from collections.abc import Sequence
from typing import Any

import asyncpg
import orjson
from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_exponential

import structlog

log = structlog.get_logger(__name__)

# A just-restarted PostgreSQL refuses the first connections while it recovers.
TRANSIENT_CONNECT_ERRORS = (OSError, asyncpg.CannotConnectNowError, asyncpg.TooManyConnectionsError)


def json_dumps(value: Any) -> str:
    """JSON text for jsonb values (orjson: Decimal-free payloads, fast)."""
    return orjson.dumps(value).decode()


def sqlalchemy_url(database_url: str) -> str:
    """The SQLAlchemy form (asyncpg driver) of a plain `postgresql://` URL."""
    url = make_url(database_url)
    return url.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def asyncpg_dsn(database_url: str) -> str:
    """The plain libpq form of a URL, for direct asyncpg connections (LISTEN)."""
    url = make_url(database_url)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def create_engine(database_url: str, *, pool_size: int = 10, name: str = "fundwatch") -> AsyncEngine:
    """The process's engine; JSON through orjson. Its connections say whose they are (`application_name`), so
    that pg_stat_activity and the server's logs name the service behind a query or a long transaction."""
    return create_async_engine(
        sqlalchemy_url(database_url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        json_serializer=json_dumps,
        json_deserializer=orjson.loads,
        connect_args={"server_settings": {"application_name": name}},
    )


async def wait_for_database(engine: AsyncEngine, *, seconds: float = 60) -> None:
    """Block until PostgreSQL answers, backing off between tries."""
    async for attempt in AsyncRetrying(
        retry=retry_if_exception_type(TRANSIENT_CONNECT_ERRORS),
        wait=wait_exponential(multiplier=0.1, max=2),
        stop=stop_after_delay(seconds),
        reraise=True,
    ):
        with attempt:
            async with engine.connect() as conn:
                await conn.exec_driver_sql("select 1")


async def connect_raw(database_url: str) -> asyncpg.Connection:
    """A dedicated asyncpg connection (for LISTEN), retried like the engine."""
    async for attempt in AsyncRetrying(
        retry=retry_if_exception_type(TRANSIENT_CONNECT_ERRORS),
        wait=wait_exponential(multiplier=0.1, max=2),
        stop=stop_after_delay(60),
        reraise=True,
    ):
        with attempt:
            return await asyncpg.connect(asyncpg_dsn(database_url))
    raise AssertionError("unreachable")


# From this many rows on, a bulk insert goes through COPY.
COPY_THRESHOLD = 1000


async def bulk_insert(conn: AsyncConnection, table: Table, rows: list[dict[str, Any]], *,
                      copy_from: int = COPY_THRESHOLD) -> None:
    """Insert rows in the connection's transaction: INSERT for a few, COPY from `copy_from` rows on (COPY takes
    each value as it is, so a caller whose rows hold exactly the columns' Python types may ask for it sooner)."""
    if not rows:
        return
    if len(rows) < copy_from:
        await conn.execute(table.insert(), rows)
        return
    columns = list(rows[0])
    as_json = {name for name in columns if isinstance(table.c[name].type, JSONB)}
    raw = (await conn.get_raw_connection()).driver_connection
    await raw.copy_records_to_table(
        table.name, schema_name=table.schema, columns=columns,
        records=[tuple(json_dumps(row[c]) if c in as_json else row[c] for c in columns) for row in rows])


async def bulk_upsert(conn: AsyncConnection, table: Table, rows: list[dict[str, Any]], *,
                      key: Sequence[str], replace: bool = True) -> None:
    """Insert rows; a row whose key is present already replaces it (or, with `replace=False`, is dropped).

    Many rows go through COPY into a temporary table and one INSERT … SELECT … ON CONFLICT: for a
    registry of a million people that is several times faster than INSERT with many parameter sets.
    The rows must not repeat a key.
    """
    if not rows:
        return
    columns = list(rows[0])
    changing = [c for c in columns if c not in key]
    if len(rows) < COPY_THRESHOLD:
        stmt = pg_insert(table)
        stmt = (stmt.on_conflict_do_update(index_elements=list(key), set_={c: stmt.excluded[c] for c in changing})
                if replace and changing else stmt.on_conflict_do_nothing(index_elements=list(key)))
        await conn.execute(stmt, rows)
        return
    raw = (await conn.get_raw_connection()).driver_connection
    target, scratch = f"{table.schema}.{table.name}", f"upsert_{table.schema}_{table.name}"
    await raw.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {scratch} "
                      f"(LIKE {target} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS")
    await raw.copy_records_to_table(scratch, columns=columns, records=[tuple(row[c] for c in columns) for row in rows])
    listed = ", ".join(columns)
    action = (f"DO UPDATE SET {', '.join(f'{c} = EXCLUDED.{c}' for c in changing)}" if replace and changing
              else "DO NOTHING")
    await raw.execute(f"INSERT INTO {target} ({listed}) SELECT {listed} FROM {scratch} "
                      f"ON CONFLICT ({', '.join(key)}) {action}")
    await raw.execute(f"DELETE FROM {scratch}")  # not TRUNCATE: that rewrites the catalog each time


# Connection exceptions (class 08), and a server shutting down, crashed or still starting (57P01–57P03).
UNREACHABLE_SQLSTATES = {"57P01", "57P02", "57P03"}


def database_unreachable(exc: BaseException) -> bool:
    """Whether an error says the database cannot be reached now (down, restarting, connection lost), as opposed
    to a fault of the request: the caller should come back later (503), nothing was done."""
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    if isinstance(exc, PoolTimeout | OSError | asyncpg.exceptions.ConnectionDoesNotExistError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        return exc.orig is not None and exc.orig is not exc and database_unreachable(exc.orig)
    state = getattr(exc, "sqlstate", None)
    if isinstance(state, str) and (state.startswith("08") or state in UNREACHABLE_SQLSTATES):
        return True
    cause = exc.__cause__
    return cause is not None and cause is not exc and database_unreachable(cause)


# Deadlock and serialization failures: the transaction was sound, only unlucky.
TRANSIENT_SQLSTATES = {"40P01", "40001"}


def is_transient(exc: BaseException) -> bool:
    """A database error that running the whole transaction again can get past."""
    if not isinstance(exc, DBAPIError):
        return False
    return exc.connection_invalidated or getattr(exc.orig, "sqlstate", None) in TRANSIENT_SQLSTATES
