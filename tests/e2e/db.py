"""The suite's database, reached behind the API: what a test arranges (letting a clock run out, an account
as the end of its application would leave it) or checks (what a service stored) that no endpoint shows.
The one way the e2e tests open a connection of their own."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from backbone.db import asyncpg_dsn


@asynccontextmanager
async def connected(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection of its own, closed afterwards (for several statements, or a transaction)."""
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        yield conn
    finally:
        await conn.close()


async def execute(database_url: str, statement: str, *args) -> int:
    """Run a statement; how many rows it touched."""
    async with connected(database_url) as conn:
        status = await conn.execute(statement, *args)
    count = status.split()[-1]
    return int(count) if count.isdigit() else 0


async def fetch(database_url: str, query: str, *args) -> list[asyncpg.Record]:
    async with connected(database_url) as conn:
        return await conn.fetch(query, *args)


def rows(database_url: str, query: str, *args) -> list[dict]:
    """The rows of a query, as dicts, from a synchronous test."""
    return [dict(r) for r in asyncio.run(fetch(database_url, query, *args))]
