"""Signing in and out, passwords and the second factor, as the gateway's tables keep them: lockout after repeated
failures, one-time passwords that must be changed, and sessions that end when the person signs out or the
password changes (等级保护 2.0 三级).

A credential row is locked while a sign-in is judged, so concurrent attempts on one account are
counted one after the other; argon2 runs off the event loop (it is deliberately slow).
"""

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from backbone.errors import InvalidInput, NotFound, Unauthorized, fault
from backbone.eventstore import EventStore
from backbone.identity import Principal
from backbone.pii import PersonalData
from backbone.settings import Settings
from backbone.workdays import SHANGHAI
from contracts.envelope import DomainEvent
from contracts.gateway import AccountLocked, PasswordChanged, SecondFactorChanged
from gateway.auth import issue_access_token
from gateway.accounts.passwords import one_time_password, password_hash, policy_faults
from gateway.projections import credentials, sessions, users
from gateway.accounts.second_factor import accepted_step, new_secret, required

log = structlog.get_logger(__name__)
_DUMMY_HASH = password_hash.hash("not a password of anyone")
WRONG = "wrong user name or password"


@dataclass(frozen=True)
class SignedIn:
    """A new session: its access token, whether the password must be changed and whether a second factor must
    be enrolled before anything else."""

    access_token: str
    must_change: bool
    needs_second_factor: bool
    session_id: str


class SecondFactorNeeded(Unauthorized):
    """The password was right; the account signs in with a code from its authenticator app too."""

    type_name = "second-factor-required"


async def sign_in(engine: AsyncEngine, store: EventStore, settings: Settings, username: str,
                  password: str, code: str | None = None) -> SignedIn:
    """A new session for a person. A wrong name and a wrong password look the same; a locked account says
    until when. argon2 runs with no database connection held (it is slow on purpose: holding one would let
    a flood of sign-ins empty the pool)."""
    async with engine.connect() as conn:
        row = await _credential(conn, username)
    _refuse_locked(row, settings)
    # A dummy hash for unknown names too, so timing does not tell who exists.
    stored = row.password_hash if row is not None else _DUMMY_HASH
    good = await asyncio.to_thread(password_hash.verify, password, stored) and row is not None
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        if row is not None:
            row = await _credential(conn, username, lock=True)
        _refuse_locked(row, settings)  # locked meanwhile by attempts running beside this one
        step = None
        if good and row is not None and row.totp_cipher is not None:
            if not code:
                raise SecondFactorNeeded("this account signs in with a code from its authenticator app too",
                                         second_factor_required=True)
            secret = PersonalData.from_settings(settings).decrypt(row.totp_cipher)
            step = accepted_step(secret, code, row.totp_last_step)
            good = step is not None
        if not good:
            if row is not None:
                await _count_failure(conn, store, settings, username, row.failed_count + 1, now)
        else:
            assert row is not None
            await conn.execute(update(credentials).where(credentials.c.username == username).values(
                failed_count=0, locked_until=None, **({"totp_last_step": step} if step is not None else {})))
            expired = (username != settings.admin_user
                       and now - row.changed_at > timedelta(days=settings.password_max_age_days))
            must_change = bool(row.must_change) or expired
            needs_factor = (row.totp_cipher is None and settings.environment != "development"
                            and required(list(row.roles), settings.second_factor_roles))
            session_id = str(uuid4())
            expires = now + timedelta(seconds=settings.token_ttl_seconds)
            await conn.execute(sessions.insert().values(
                session_id=session_id, username=username, issued_at=now, last_seen_at=now, expires_at=expires,
                must_change=must_change, needs_second_factor=needs_factor))
    # Outside the transaction: the failure count above must be kept, not rolled back with the refusal.
    if not good:
        log.info("auth.login_failed")
        raise Unauthorized(WRONG)
    log.info("auth.login", username=username)
    principal = Principal(subject=row.username, roles=list(row.roles), org_unit=row.org_unit,
                          division=row.division, pii=row.pii)
    return SignedIn(issue_access_token(principal, session_id, expires, settings), must_change, needs_factor,
                    session_id)


async def known_person(engine: AsyncEngine, username: str) -> bool:
    """Whether a name is an account's (so that a password typed into the name field is never kept)."""
    async with engine.connect() as conn:
        return await conn.scalar(select(users.c.username).where(users.c.username == username)) is not None


async def _credential(conn: AsyncConnection, username: str, *, lock: bool = False) -> Any:
    q = (select(users, credentials.c.password_hash, credentials.c.must_change, credentials.c.failed_count,
                credentials.c.locked_until, credentials.c.changed_at, credentials.c.totp_cipher,
                credentials.c.totp_last_step)
         .join(credentials, credentials.c.username == users.c.username)
         .where(users.c.username == username, users.c.revoked_at.is_(None)))
    return (await conn.execute(q.with_for_update(of=credentials) if lock else q)).first()


def _refuse_locked(row: Any, settings: Settings) -> None:
    if row is not None and row.locked_until is not None and row.locked_until > datetime.now(UTC):
        until = row.locked_until.astimezone(SHANGHAI)
        raise Unauthorized(f"the account is locked after {settings.lockout_attempts} wrong passwords; "
                           f"try again after {until:%H:%M} (Beijing time) or ask an administrator to reset it")


async def _count_failure(conn: AsyncConnection, store: EventStore, settings: Settings, username: str,
                         failures: int, now: datetime) -> bool:
    """Count a wrong password; True when it locks the account."""
    if failures < settings.lockout_attempts:
        await conn.execute(update(credentials).where(credentials.c.username == username)
                           .values(failed_count=failures))
        return False
    until = now + timedelta(seconds=settings.lockout_seconds)
    await conn.execute(update(credentials).where(credentials.c.username == username)
                       .values(failed_count=0, locked_until=until))
    await append_to_person(conn, store, username, AccountLocked(username=username, failures=failures, until=until),
                  actor=username)
    log.warning("auth.account_locked", username=username, until=until.isoformat())
    return True


async def sign_out(engine: AsyncEngine, session_id: str) -> None:
    """End one session: its token stops working at once."""
    async with engine.begin() as conn:
        await conn.execute(update(sessions).where(sessions.c.session_id == session_id, sessions.c.ended_at.is_(None))
                           .values(ended_at=datetime.now(UTC), ended_because="signed_out"))


async def change_password(engine: AsyncEngine, store: EventStore, settings: Settings, username: str, current: str,
                          new: str) -> None:
    """The person's own change, proved by the current password; every open session ends."""
    faults = policy_faults(new, username)
    if new == current:
        faults.append("must differ from the current password")
    if faults:
        raise InvalidInput("the new password does not meet the password policy",
                           errors=[fault("new_password", m) for m in faults])
    await prove_password(engine, store, settings, username, current)
    hashed = await asyncio.to_thread(password_hash.hash, new)
    async with engine.begin() as conn:
        await _set_password(conn, store, username, hashed, reset=False, actor=username)


async def prove_password(engine: AsyncEngine, store: EventStore, settings: Settings, username: str,
                         current: str) -> None:
    """A signed-in person's proof that it is them before a change to their credentials: a wrong password counts
    toward the lockout like a wrong sign-in (a stolen token must not become a way to guess the password)."""
    async with engine.connect() as conn:
        stored = await conn.scalar(select(credentials.c.password_hash).where(credentials.c.username == username))
    if stored is None:
        raise NotFound(f"no user {username} with a password")
    if not await asyncio.to_thread(password_hash.verify, current, stored):
        await _count_wrong_proof(engine, store, settings, username)
        raise InvalidInput("the current password is wrong",
                           errors=[fault("current_password", "not the current password")])


async def _count_wrong_proof(engine: AsyncEngine, store: EventStore, settings: Settings, username: str) -> None:
    """A wrong password or code from a signed-in person counts toward the lockout as at sign-in, and a lockout
    ends the person's sessions."""
    async with engine.begin() as conn:
        row = await _credential(conn, username, lock=True)
        if row is not None and await _count_failure(conn, store, settings, username, row.failed_count + 1,
                                                    datetime.now(UTC)):
            await end_sessions(conn, username, "locked")


async def reset_password(engine: AsyncEngine, store: EventStore, username: str, actor: str) -> str:
    """An administrator's reset: a one-time password to hand over, to be changed at the next sign-in;
    the account is unlocked and every open session ends."""
    password = one_time_password()
    hashed = await asyncio.to_thread(password_hash.hash, password)
    async with engine.begin() as conn:
        found = await conn.scalar(select(credentials.c.username).where(credentials.c.username == username))
        if found is None:
            raise NotFound(f"no user {username} with a password")
        await _set_password(conn, store, username, hashed, reset=True, actor=actor)
    return password


async def _set_password(conn: AsyncConnection, store: EventStore, username: str, hashed: str, *, reset: bool,
                        actor: str) -> None:
    now = datetime.now(UTC)
    await conn.execute(update(credentials).where(credentials.c.username == username).values(
        password_hash=hashed, changed_at=now, must_change=reset, failed_count=0, locked_until=None))
    await end_sessions(conn, username, "password_changed")
    await append_to_person(conn, store, username, PasswordChanged(username=username, reset=reset), actor=actor)


async def end_sessions(conn: AsyncConnection, username: str, because: str) -> None:
    """End every open session of a person (password changed, account revoked)."""
    await conn.execute(update(sessions).where(sessions.c.username == username, sessions.c.ended_at.is_(None))
                       .values(ended_at=datetime.now(UTC), ended_because=because))


async def append_to_person(conn: AsyncConnection, store: EventStore, username: str, event: DomainEvent, *,
                           actor: str, org_unit: str | None = None) -> None:
    """An event of a person's account, on the person's stream where it stands."""
    stream = f"user-{username}"
    await store.append(conn, stream_id=stream, stream_type="user", expected_version=await store.version(conn, stream),
                       events=[event], meta=store.metadata(actor=actor, org_unit=org_unit))


async def enrol_second_factor(engine: AsyncEngine, store: EventStore, settings: Settings, username: str, *,
                              current_password: str, current_code: str | None) -> str:
    """A new TOTP secret for the person, pending until a code from it confirms it; returns the secret. The
    password proves it is the person and not a stolen token; replacing an enrolled factor also takes a code
    from it (a lost phone is an administrator's reset instead)."""
    await prove_password(engine, store, settings, username, current_password)
    secret = new_secret()
    async with engine.begin() as conn:
        row = (await conn.execute(select(credentials.c.totp_cipher, credentials.c.totp_last_step).where(
            credentials.c.username == username).with_for_update())).first()
        updates = {"totp_pending_cipher": PersonalData.from_settings(settings).encrypt(secret)}
        step = None
        enrolled = row is not None and row.totp_cipher is not None
        if enrolled:
            step = accepted_step(PersonalData.from_settings(settings).decrypt(row.totp_cipher), current_code or "",
                                 row.totp_last_step)
            updates["totp_last_step"] = step
        if not enrolled or step is not None:
            await conn.execute(update(credentials).where(credentials.c.username == username).values(**updates))
            return secret
    await _count_wrong_proof(engine, store, settings, username)
    raise InvalidInput("a second factor is enrolled: its current code is needed to replace it",
                       errors=[fault("current_code", "not the enrolled app's current code")])


async def confirm_second_factor(engine: AsyncEngine, store: EventStore, settings: Settings, username: str,
                                session_id: str, code: str) -> None:
    """The first code from the app proves it holds the pending secret: from now on sign-in asks for a code.
    The session that enrolled it is no longer held to enrolling; every other session of the person ends (they
    were opened without this factor)."""
    async with engine.begin() as conn:
        row = (await conn.execute(select(credentials.c.totp_pending_cipher).where(
            credentials.c.username == username).with_for_update())).first()
        if row is None or row.totp_pending_cipher is None:
            raise InvalidInput("nothing to confirm: POST /api/v1/auth/second-factor/enrollment first",
                               errors=[fault("code", "no enrolment under way")])
        step = accepted_step(PersonalData.from_settings(settings).decrypt(row.totp_pending_cipher), code, None)
        if step is None:
            raise InvalidInput("the code does not match the new secret; check the app's clock",
                               errors=[fault("code", "not the current code")])
        await conn.execute(update(credentials).where(credentials.c.username == username).values(
            totp_cipher=row.totp_pending_cipher, totp_pending_cipher=None, totp_last_step=step))
        await conn.execute(update(sessions).where(sessions.c.session_id == session_id)
                           .values(needs_second_factor=False))
        await conn.execute(update(sessions).where(sessions.c.username == username, sessions.c.ended_at.is_(None),
                                                  sessions.c.session_id != session_id)
                           .values(ended_at=datetime.now(UTC), ended_because="second_factor_changed"))
        await append_to_person(conn, store, username, SecondFactorChanged(username=username, enabled=True), actor=username)


async def reset_second_factor(engine: AsyncEngine, store: EventStore, username: str, actor: str) -> None:
    """An administrator removes a person's second factor (a lost phone); every open session of the person
    ends, and a person who must use one enrols a new one at the next sign-in."""
    async with engine.begin() as conn:
        found = (await conn.execute(update(credentials).where(credentials.c.username == username).values(
            totp_cipher=None, totp_pending_cipher=None, totp_last_step=None).returning(credentials.c.username))).first()
        if found is None:
            raise NotFound(f"no user {username} with a password")
        await end_sessions(conn, username, "second_factor_reset")
        await append_to_person(conn, store, username, SecondFactorChanged(username=username, enabled=False), actor=actor)
