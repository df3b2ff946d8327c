"""The suite's database, reached behind the API: what a test arranges (letting a clock run out) or checks
(what a service counted) that no endpoint shows."""

import asyncpg

from backbone.db import asyncpg_dsn


async def execute(database_url: str, statement: str, *args) -> int:
    """Run a statement; how many rows it touched."""
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        status = await conn.execute(statement, *args)
    finally:
        await conn.close()
    count = status.split()[-1]
    return int(count) if count.isdigit() else 0


async def fetch(database_url: str, query: str, *args) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()
