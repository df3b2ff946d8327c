"""People to sign in as through the gateway. Accounts come into being through permission applications;
for tests of other things, `account` writes one straight into the gateway's tables, as the end of that
workflow would leave it. And `forwarded`: the identity the gateway passes on, for tests of a service's own
checks."""

import asyncio
import os
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from uuid import uuid4

import httpx

from backbone.identity import IDENTITY_HEADER, ExportGrant, Principal, audience_of, issue_internal_token
from backbone.settings import get_settings
from gateway.accounts.passwords import password_hash
from tests.e2e import db

PASSWORD = "Test#Pass2026"
# A test's forwarded identity goes to whichever service the test calls.
EVERY_SERVICE = [audience_of(service) for service in ("ledger", "payments", "performance", "alerting", "sync")]
GATEWAY_ENV = "FUNDWATCH_TEST_GATEWAY"


async def _create(database_url: str, username: str, roles: list[str], org_unit: str, division: str | None,
                  pii: bool, password: str, must_change: bool) -> None:
    async with db.connected(database_url) as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO gateway.users (username, display_name, org_unit, division, roles, pii, created_at) "
            "VALUES ($1, $1, $2, $3, $4, $5, $6) ON CONFLICT (username) DO NOTHING",
            username, org_unit, division, roles, pii, datetime.now(UTC))
        await conn.execute(
            "INSERT INTO gateway.credentials (username, password_hash, changed_at, must_change) "
            "VALUES ($1, $2, now(), $3) ON CONFLICT (username) DO NOTHING",
            username, password_hash.hash(password), must_change)


def account(database_url: str, username: str, roles: list[str], *, org_unit: str = "220100",
            division: str | None = None, pii: bool = False, password: str = PASSWORD,
            must_change: bool = False) -> str:
    """Create the account (once) and return its user name."""
    asyncio.run(_create(database_url, username, roles, org_unit, division, pii, password, must_change))
    return username


def suite_gateway() -> str:
    """The gateway of the suite's stack (the stack fixture names it)."""
    return os.environ[GATEWAY_ENV]


def sign_in(gateway: str, username: str, password: str = PASSWORD) -> httpx.Response:
    # The stack's own patience (Stack.client): on a busy machine a password hash alone can take seconds.
    return httpx.post(f"{gateway}/api/v1/auth/token", json={"username": username, "password": password}, timeout=30)


def headers_of(signed: httpx.Response) -> dict[str, str]:
    """The headers that carry the token of a successful sign-in."""
    assert signed.status_code == 200, signed.text
    return {"Authorization": f"Bearer {signed.json()['access_token']}"}


def bearer(gateway: str, username: str, password: str = PASSWORD) -> dict[str, str]:
    return headers_of(sign_in(gateway, username, password))


def signed_in(username: str, roles: list[str], org_unit: str = "220100", division: str | None = None,
              pii: bool = False) -> dict[str, str]:
    """Headers of a person signed in at the suite's gateway, with an account created on first use."""
    account(os.environ["DATABASE_URL"], username, roles, org_unit=org_unit, division=division, pii=pii)
    return bearer(suite_gateway(), username)


class Person(Mapping[str, str]):
    """The identity the gateway forwards for a caller, for a test that talks straight to a service (its own check of
    the access table and the data scope), signed afresh each time it is sent: a forwarded identity lives two
    minutes, a test module longer."""

    def __init__(self, principal: Principal) -> None:
        self.principal = principal

    def _headers(self) -> dict[str, str]:
        return {IDENTITY_HEADER: issue_internal_token(self.principal,
                                                      get_settings().identity_private_key.get_secret_value(),
                                                      EVERY_SERVICE)}

    def __getitem__(self, key: str) -> str:
        return self._headers()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._headers())

    def __len__(self) -> int:
        return 1

    def __or__(self, other: Mapping[str, str]) -> dict[str, str]:
        return self._headers() | dict(other)

    def exporting(self, path: str) -> "Person":
        """The person downloading a co-signed export of `path`, as the gateway forwards them then."""
        grant = ExportGrant(export_id=str(uuid4()), path=path, requester=self.principal.subject, cosigner="局脱贫办-周",
                            cosigned_at=datetime.now(UTC), purpose="测试")
        return Person(self.principal.model_copy(update={"export": grant}))


def forwarded(subject: str, roles: list[str], org_unit: str | None = "220100", division: str | None = None,
              pii: bool = False) -> Person:
    return Person(Principal(subject=subject, roles=roles, org_unit=org_unit, division=division, pii=pii))
