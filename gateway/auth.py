"""Identity at the edge: access tokens bound to server-side sessions, machine API keys, rate limits."""

import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, NamedTuple
from uuid import uuid4

import jwt
from fastapi import Depends, Request
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine

import structlog

from backbone.access import ACCESS, ADMIN, PROVINCE_SYSTEM, PUBLIC, TREASURY_SYSTEM, admitted, template_of
from backbone.errors import ConcurrencyConflict, Forbidden, NotFound, Unauthorized
from backbone.identity import Principal
from backbone.service import Runtime
from backbone.settings import Settings
from contracts.gateway import UserRegistered
from contracts.values import CITY_ORG_UNIT
from gateway.audit.recording import caller_ip
from gateway.accounts.passwords import password_hash
from gateway.projections import api_keys, credentials, sessions, users
from gateway.ratelimit import RateLimits

log = structlog.get_logger(__name__)
API_KEY_CACHE_SECONDS = 30.0
API_KEY_CACHE_SIZE = 1000
TOKEN_AUDIENCE = "fundwatch"
TREASURY_SYSTEM_SUBJECT = "treasury-system"  # the configured keys' machines
PROVINCE_SYSTEM_SUBJECT = "province-platform"
# A session's last use is written at most this often: the idle limit is kept to within it.
TOUCH_SECONDS = 30
# Why a session ended, as the person is told.
ENDED_BECAUSE = {"signed_out": "you signed out", "password_changed": "the password was changed",
                 "idle": "it was idle too long", "account_changed": "the account's permissions changed",
                 "account_revoked": "the account was revoked", "locked": "the account was locked",
                 "second_factor_reset": "the second factor was reset",
                 "second_factor_changed": "a new second factor was enrolled"}
# How long a gateway process trusts what it last read of a session. The process that ends a session (sign-out,
# password change, account change) forgets it at once; other replicas follow within this time.
SESSION_CACHE_SECONDS = 5.0
SESSION_CACHE_SIZE = 10_000
# All a person with a one-time password may do until it is changed (and the console's look at who signed in, which
# tells it to show the password change).
PASSWORD_CHANGE_ONLY = {("POST", "/api/v1/auth/password"), ("POST", "/api/v1/auth/logout"), ("GET", "/api/v1/me")}
# All a person who must use a second factor, and has none yet, may do until it is enrolled.
# (The password change too: a one-time password comes first, and ends the session.)
SECOND_FACTOR_ONLY = {("POST", "/api/v1/auth/second-factor/enrollment"),
                      ("POST", "/api/v1/auth/second-factor/confirmation"), *PASSWORD_CHANGE_ONLY}


# A browser's session: the access token in an HttpOnly cookie, and a token bound to the session that every write
# made with the cookie carries in a header (a forged cross-site form cannot read it, so cannot send it).
SESSION_COOKIE = "fundwatch_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_token(session_id: str, settings: Settings) -> str:
    """The CSRF token of a browser session: derived from the session, so nothing more is stored."""
    key = settings.jwt_secret.get_secret_value().encode()
    return hmac.new(key, f"csrf:{session_id}".encode(), hashlib.sha256).hexdigest()


def key_digest(api_key: str) -> str:
    """API keys are stored as their SHA-256 only."""
    return hashlib.sha256(api_key.encode()).hexdigest()


def issue_access_token(principal: Principal, session_id: str, expires_at: datetime, settings: Settings) -> str:
    """A signed access token for a person, valid only while its session is open."""
    claims = {"sub": principal.subject, "roles": principal.roles, "org_unit": principal.org_unit,
              "division": principal.division, "pii": principal.pii, "aud": TOKEN_AUDIENCE,
              "iat": datetime.now(UTC), "exp": expires_at, "sid": session_id, "jti": str(uuid4())}
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")


@dataclass(frozen=True)
class Authenticated:
    """Who a request comes from, and what the edge needs to know about it beyond the principal."""

    principal: Principal
    session_id: str | None = None
    rate_limit: str | None = None
    key_id: str | None = None


class _SeenSession(NamedTuple):
    """What a gateway process last read of a session, and when (monotonic)."""

    read_at: float
    username: str
    last_seen: datetime
    must_change: bool
    needs_second_factor: bool


class _KnownKey(NamedTuple):
    read_at: float
    caller: Authenticated
    expires_at: datetime | None


class Authenticator:
    """Turns a request's bearer token or API key into a principal, and counts it against its rate limit."""

    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.limits = RateLimits(settings)
        self._keys: dict[str, _KnownKey] = {}
        self._sessions: dict[str, _SeenSession] = {}

    async def __call__(self, request: Request) -> Principal:
        auth = request.headers.get("authorization", "")
        api_key = request.headers.get("x-api-key")
        cookie = request.cookies.get(SESSION_COOKIE)
        if not (auth.lower().startswith("bearer ") or api_key or cookie):
            raise Unauthorized("sign in (POST /api/v1/auth/token) or send an X-Api-Key")
        try:
            if auth.lower().startswith("bearer "):
                caller = await self._from_token(auth[7:].strip(), request)
            elif api_key:
                caller = await self._from_api_key(api_key)
            else:
                caller = await self._from_token(cookie or "", request)
                self._check_csrf(request, caller)
        except Unauthorized:
            # Credentials that do not hold count against their address like wrong passwords do (429 once
            # spent); credentials that hold are never refused for them, whoever shares the address.
            await self.limits.admit(f"bad-credentials:{self.address_of(request)}", self.limits.sign_in)
            raise
        request.state.principal = caller.principal
        request.state.session_id = caller.session_id
        request.state.api_key_id = caller.key_id
        await self.limits.admit(caller.principal.subject, self.limits.limit_of(caller.principal, caller.rate_limit))
        return caller.principal

    def _check_csrf(self, request: Request, caller: Authenticated) -> None:
        """A write made with the session cookie must carry the session's CSRF token."""
        if request.method in SAFE_METHODS:
            return
        sent = request.headers.get(CSRF_HEADER, "")
        if not (caller.session_id and hmac.compare_digest(sent, csrf_token(caller.session_id, self.settings))):
            raise Forbidden("a write made with the session cookie needs the session's X-CSRF-Token header",
                            reason="csrf_token_missing")

    async def _from_token(self, token: str, request: Request) -> Authenticated:
        try:
            claims: dict[str, Any] = jwt.decode(token, self.settings.jwt_secret.get_secret_value(),
                                                algorithms=["HS256"], audience=TOKEN_AUDIENCE,
                                                options={"require": ["exp", "sid", "sub"]})
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("the access token has expired; sign in again", reason="expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("the access token is not valid") from exc
        must_change, needs_factor = await self._open_session(claims["sid"], claims["sub"])
        endpoint = (request.method, request.url.path)
        if must_change and endpoint not in PASSWORD_CHANGE_ONLY:
            raise Forbidden("change the one-time password first: POST /api/v1/auth/password",
                            reason="password_change_required")
        if needs_factor and endpoint not in SECOND_FACTOR_ONLY:
            raise Forbidden("this account signs in with a second factor: enrol an authenticator app first "
                            "(POST /api/v1/auth/second-factor/enrollment, then …/confirmation)",
                            reason="second_factor_required")
        principal = Principal(subject=claims["sub"], roles=claims.get("roles", []), org_unit=claims.get("org_unit"),
                              division=claims.get("division"), pii=bool(claims.get("pii")),
                              session_expires=claims["exp"])
        return Authenticated(principal, session_id=claims["sid"])

    async def _open_session(self, session_id: str, username: str) -> tuple[bool, bool]:
        """Whether the session must change its password, and enrol a second factor, before anything else;
        Unauthorized when it has ended or idled out."""
        now = datetime.now(UTC)
        cached = self._sessions.get(session_id)
        if cached is not None and time.monotonic() - cached.read_at < SESSION_CACHE_SECONDS and \
                now - cached.last_seen <= timedelta(seconds=self.settings.session_idle_seconds):
            return cached.must_change, cached.needs_second_factor
        self._sessions.pop(session_id, None)
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(sessions.c.last_seen_at, sessions.c.ended_because, sessions.c.must_change,
                                             sessions.c.needs_second_factor)
                                      .where(sessions.c.session_id == session_id))).first()
            if row is None or row.ended_because is not None:
                because = row.ended_because if row else None
                reason = ENDED_BECAUSE.get(because or "", "it has ended")
                raise Unauthorized(f"the session is over ({reason}); sign in again", reason=because or "ended")
            idle = now - row.last_seen_at
            if idle > timedelta(seconds=self.settings.session_idle_seconds):
                await conn.execute(update(sessions).where(sessions.c.session_id == session_id)
                                   .values(ended_at=now, ended_because="idle"))
                await conn.commit()
                minutes = self.settings.session_idle_seconds // 60
                raise Unauthorized(f"the session was idle for more than {minutes} minutes; sign in again",
                                   reason="idle")
            last_seen = row.last_seen_at
            if idle > timedelta(seconds=TOUCH_SECONDS):
                await conn.execute(update(sessions).where(sessions.c.session_id == session_id)
                                   .values(last_seen_at=now))
                await conn.commit()
                last_seen = now
        if len(self._sessions) >= SESSION_CACHE_SIZE:
            self._sessions.clear()
        restrictions = bool(row.must_change), bool(row.needs_second_factor)
        self._sessions[session_id] = _SeenSession(time.monotonic(), username, last_seen, *restrictions)
        return restrictions

    async def _from_api_key(self, api_key: str) -> Authenticated:
        digest = key_digest(api_key)
        now = datetime.now(UTC)
        cached = self._keys.get(digest)
        if cached is not None and time.monotonic() - cached.read_at < API_KEY_CACHE_SECONDS and (
                cached.expires_at is None or cached.expires_at > now):
            return cached.caller
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(api_keys).where(api_keys.c.key_hash == digest))).first()
        if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
            # Only valid keys are remembered: random keys cannot grow the cache.
            self._keys.pop(digest, None)
            raise Unauthorized("the API key is not valid")
        caller = Authenticated(Principal(subject=row.subject, roles=list(row.roles), org_unit=row.org_unit),
                               rate_limit=row.rate_limit, key_id=row.key_id)
        if len(self._keys) >= API_KEY_CACHE_SIZE:
            self._keys.clear()
        self._keys[digest] = _KnownKey(time.monotonic(), caller, row.expires_at)
        return caller

    async def session_open(self, session_id: str) -> bool:
        """Whether a session still holds, asked by a long-lived stream: not ended, not idle, not expired. A
        stream is no activity of the person: it does not keep the session alive."""
        now = datetime.now(UTC)
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(sessions.c.last_seen_at, sessions.c.ended_at, sessions.c.expires_at)
                                      .where(sessions.c.session_id == session_id))).first()
        return (row is not None and row.ended_at is None and row.expires_at > now
                and now - row.last_seen_at <= timedelta(seconds=self.settings.session_idle_seconds))

    async def admit_sign_in(self, request: Request, username: str) -> None:
        """Count a sign-in attempt against its client address and name, and against the address alone under a
        higher ceiling (the lockout guards each name; this guards the gateway against floods of attempts). An
        address shared by many people (an office's NAT, a proxy) does not lock out the others."""
        address = self.address_of(request)
        name = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
        await self.limits.admit(f"sign-in:{address}", self.limits.sign_in_address)
        await self.limits.admit(f"sign-in:{address}:{name}", self.limits.sign_in)

    def address_of(self, request: Request) -> str | None:
        return caller_ip(request.scope, self.settings.trusted_proxies)

    def forget(self) -> None:
        """Drop remembered keys (after a revocation here; other gateways follow within the cache time)."""
        self._keys.clear()

    def forget_sessions(self, username: str) -> None:
        """Drop what this process remembers of a person's sessions, after one or all of them ended here."""
        for session_id in [sid for sid, entry in self._sessions.items() if entry.username == username]:
            self._sessions.pop(session_id, None)


PROXY_ROUTE = "/api/v1/{path:path}"


async def caller(request: Request) -> Principal:
    """The caller of a route the gateway answers itself, as the guard authenticated it (the access table has
    decided its roles may use the route)."""
    return request.state.principal


Caller = Annotated[Principal, Depends(caller)]


async def guard(request: Request) -> None:
    """The gateway's check before any of its routes runs: authenticate (unless the endpoint is public),
    then the access table, on the gateway's own endpoint or the service endpoint a proxied path belongs to."""
    template = request.scope["route"].path
    if template == PROXY_ROUTE:
        template = template_of(request.method, request.url.path)
        if template is None:
            raise NotFound(f"no such endpoint: {request.method} {request.url.path}")
    if ACCESS.get(f"{request.method} {template}") is PUBLIC:
        return
    admitted(await request.app.state.authenticate(request), request.method, template)


async def bootstrap_accounts(runtime: Runtime) -> None:
    """The bootstrap administrator and the treasury system's key, from the settings."""
    settings, store = runtime.settings, runtime.store
    try:
        async with runtime.engine.begin() as conn:
            exists = await conn.scalar(select(users.c.username).where(users.c.username == settings.admin_user))
            if exists is None:
                event = UserRegistered(username=settings.admin_user, display_name="系统管理员",
                                       org_unit=CITY_ORG_UNIT, roles=[ADMIN], pii=False)
                await store.append(conn, stream_id=f"user-{settings.admin_user}", stream_type="user",
                                   expected_version=0, events=[event], meta=store.metadata(actor="system:bootstrap"))
                await conn.execute(credentials.insert().values(
                    username=settings.admin_user,
                    password_hash=password_hash.hash(settings.admin_password.get_secret_value()),
                    changed_at=datetime.now(UTC), must_change=False))
    except ConcurrencyConflict:
        log.info("auth.bootstrap_admin_exists", username=settings.admin_user)
    async with runtime.engine.begin() as conn:
        for subject, role, key in ((TREASURY_SYSTEM_SUBJECT, TREASURY_SYSTEM, settings.treasury_api_key),
                                   (PROVINCE_SYSTEM_SUBJECT, PROVINCE_SYSTEM, settings.province_api_key)):
            current = key_digest(key.get_secret_value())
            # A configured key is its machine's only bootstrap key: a changed setting replaces the old one; keys
            # issued through the API are left alone.
            await conn.execute(delete(api_keys).where(api_keys.c.bootstrap.is_(True), api_keys.c.subject == subject,
                                                      api_keys.c.key_hash != current))
            await conn.execute(pg_insert(api_keys).values(
                key_hash=current, key_id=current[:12], subject=subject, roles=[role],
                org_unit=CITY_ORG_UNIT, created_at=datetime.now(UTC), bootstrap=True,
            ).on_conflict_do_nothing())
