"""People to sign in as through the gateway. Accounts come into being through permission applications;
for tests of other things, `account` writes one straight into the gateway's tables, as the end of that
workflow would leave it."""

import asyncio
import os
from datetime import UTC, datetime

import asyncpg
import httpx

from backbone.db import asyncpg_dsn
from gateway.passwords import password_hash

PASSWORD = "Test#Pass2026"
GATEWAY_ENV = "FUNDWATCH_TEST_GATEWAY"


async def _create(database_url: str, username: str, roles: list[str], org_unit: str, division: str | None,
                  pii: bool, password: str, must_change: bool) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO gateway.users (username, display_name, org_unit, division, roles, pii, created_at) "
                "VALUES ($1, $1, $2, $3, $4, $5, $6) ON CONFLICT (username) DO NOTHING",
                username, org_unit, division, roles, pii, datetime.now(UTC))
            await conn.execute(
                "INSERT INTO gateway.credentials (username, password_hash, changed_at, must_change) "
                "VALUES ($1, $2, now(), $3) ON CONFLICT (username) DO NOTHING",
                username, password_hash.hash(password), must_change)
    finally:
        await conn.close()


def account(database_url: str, username: str, roles: list[str], *, org_unit: str = "220100",
            division: str | None = None, pii: bool = False, password: str = PASSWORD,
            must_change: bool = False) -> str:
    """Create the account (once) and return its user name."""
    asyncio.run(_create(database_url, username, roles, org_unit, division, pii, password, must_change))
    return username


def sign_in(gateway: str, username: str, password: str = PASSWORD) -> httpx.Response:
    return httpx.post(f"{gateway}/api/v1/auth/token", json={"username": username, "password": password})


def bearer(gateway: str, username: str, password: str = PASSWORD) -> dict[str, str]:
    r = sign_in(gateway, username, password)
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def signed_in(username: str, roles: list[str], org_unit: str = "220100", division: str | None = None,
              pii: bool = False) -> dict[str, str]:
    """Headers of a person signed in at the suite's gateway (the stack fixture names it), with an account
    created on first use."""
    account(os.environ["DATABASE_URL"], username, roles, org_unit=org_unit, division=division, pii=pii)
    return bearer(os.environ[GATEWAY_ENV], username)
