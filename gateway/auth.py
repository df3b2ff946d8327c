"""Identity at the edge: passwords (argon2), access tokens (JWT) and machine API keys."""

import asyncio
import hashlib
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import jwt
from fastapi import Request
from pwdlib import PasswordHash
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine

import structlog

from backbone.errors import ConcurrencyConflict, Unauthorized
from backbone.identity import Principal
from backbone.service import Runtime
from backbone.settings import Settings
from contracts.gateway import UserRegistered
from contracts.values import CITY_ORG_UNIT
from gateway.projections import api_keys, credentials, users

log = structlog.get_logger(__name__)
password_hash = PasswordHash.recommended()
_DUMMY_HASH = password_hash.hash("not a password of anyone")
API_KEY_CACHE_SECONDS = 30.0
API_KEY_CACHE_SIZE = 1000
TOKEN_AUDIENCE = "fundwatch"
TREASURY_SYSTEM = "treasury-system"


def key_digest(api_key: str) -> str:
    """API keys are stored as their SHA-256 only."""
    return hashlib.sha256(api_key.encode()).hexdigest()


def issue_access_token(principal: Principal, settings: Settings) -> str:
    """A signed access token for a person."""
    now = datetime.now(UTC)
    claims = {"sub": principal.subject, "roles": principal.roles, "org_unit": principal.org_unit,
              "division": principal.division, "pii": principal.pii, "aud": TOKEN_AUDIENCE, "iat": now,
              "exp": now + timedelta(seconds=settings.token_ttl_seconds), "jti": str(uuid4())}
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")


async def login(engine: AsyncEngine, settings: Settings, username: str, password: str) -> str:
    """Check a person's password; a wrong name and a wrong password look the same."""
    async with engine.connect() as conn:
        row = (await conn.execute(
            select(users, credentials.c.password_hash).join(credentials, credentials.c.username == users.c.username)
            .where(users.c.username == username))).first()
    # Verify against a dummy hash for unknown names too, so timing does not tell who exists;
    # off the event loop, since argon2 is deliberately slow.
    stored = row.password_hash if row is not None else _DUMMY_HASH
    if not await asyncio.to_thread(password_hash.verify, password, stored) or row is None or row.revoked_at:
        log.info("auth.login_failed", username=username)
        raise Unauthorized("wrong user name or password")
    log.info("auth.login", username=username)
    principal = Principal(subject=row.username, roles=list(row.roles), org_unit=row.org_unit,
                          division=row.division, pii=row.pii)
    return issue_access_token(principal, settings)


class Authenticator:
    """Turns a request's bearer token or API key into a principal."""

    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self._keys: dict[str, tuple[float, Principal]] = {}

    async def __call__(self, request: Request) -> Principal:
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return self._from_token(auth[7:].strip())
        api_key = request.headers.get("x-api-key")
        if api_key:
            return await self._from_api_key(api_key)
        raise Unauthorized("sign in (POST /api/v1/auth/token) or send an X-Api-Key")

    def _from_token(self, token: str) -> Principal:
        try:
            claims: dict[str, Any] = jwt.decode(token, self.settings.jwt_secret.get_secret_value(),
                                                algorithms=["HS256"], audience=TOKEN_AUDIENCE)
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("the access token has expired; sign in again") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("the access token is not valid") from exc
        return Principal(subject=claims["sub"], roles=claims.get("roles", []), org_unit=claims.get("org_unit"),
                         division=claims.get("division"), pii=bool(claims.get("pii")), session_expires=claims["exp"])

    async def _from_api_key(self, api_key: str) -> Principal:
        digest = key_digest(api_key)
        cached = self._keys.get(digest)
        if cached is not None and time.monotonic() - cached[0] < API_KEY_CACHE_SECONDS:
            return cached[1]
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(api_keys).where(api_keys.c.key_hash == digest))).first()
        now = datetime.now(UTC)
        if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
            # Only valid keys are remembered: random keys cannot grow the cache.
            self._keys.pop(digest, None)
            raise Unauthorized("the API key is not valid")
        principal = Principal(subject=row.subject, roles=list(row.roles), org_unit=row.org_unit)
        if len(self._keys) >= API_KEY_CACHE_SIZE:
            self._keys.clear()
        self._keys[digest] = (time.monotonic(), principal)
        return principal

    def forget(self) -> None:
        """Drop remembered keys (after a revocation here; other gateways follow within the cache time)."""
        self._keys.clear()


async def bootstrap_accounts(runtime: Runtime) -> None:
    """The bootstrap administrator and the treasury system's key, from the settings."""
    settings, store = runtime.settings, runtime.store
    try:
        async with runtime.engine.begin() as conn:
            exists = await conn.scalar(select(users.c.username).where(users.c.username == settings.admin_user))
            if exists is None:
                event = UserRegistered(username=settings.admin_user, display_name="系统管理员",
                                       org_unit=CITY_ORG_UNIT, roles=["admin"], pii=False)
                await store.append(conn, stream_id=f"user-{settings.admin_user}", stream_type="user",
                                   expected_version=0, events=[event], meta=store.metadata(actor="system:bootstrap"))
                await conn.execute(credentials.insert().values(
                    username=settings.admin_user,
                    password_hash=password_hash.hash(settings.admin_password.get_secret_value()),
                    changed_at=datetime.now(UTC)))
    except ConcurrencyConflict:
        log.info("auth.bootstrap_admin_exists", username=settings.admin_user)
    async with runtime.engine.begin() as conn:
        current = key_digest(settings.treasury_api_key.get_secret_value())
        # The configured key is the only bootstrap key: a changed setting replaces the old one; keys
        # issued through the API are left alone.
        await conn.execute(delete(api_keys).where(api_keys.c.bootstrap.is_(True), api_keys.c.key_hash != current))
        await conn.execute(pg_insert(api_keys).values(
            key_hash=current, key_id=current[:12], subject=TREASURY_SYSTEM, roles=["treasury_system"],
            org_unit=CITY_ORG_UNIT, created_at=datetime.now(UTC), bootstrap=True,
        ).on_conflict_do_nothing())
