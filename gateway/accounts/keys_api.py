"""Machine API keys: issued, listed, revoked by administrators; two may be valid during a switch."""

import secrets
from datetime import UTC, datetime, timedelta
from typing import Literal

from fastapi import APIRouter, Request, status
from limits import parse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.access import MACHINES
from backbone.errors import InvalidInput, NotFound, fault
from backbone.identity import Principal
from backbone.pages import Page, PagingDep
from backbone.paging import newest_first
from backbone.service import Runtime, RuntimeDep
from contracts.gateway import ApiKeyIssued, ApiKeyRevoked, ApiKeyRotated
from contracts.values import ORG_UNITS
from gateway.auth import Caller, key_digest
from gateway.projections import api_keys, users

router = APIRouter(prefix="/api/v1", tags=["auth"])




class KeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: str = Field(pattern=r"^[a-z][a-z0-9_-]{2,63}$", examples=["treasury-system"], description=(
        "The machine's account name, as the audit trail shows it: lower-case letters, digits, - and _, and no "
        "person's user name (a key must not act under a person's name)."))
    roles: list[Literal[tuple(sorted(MACHINES))]] = Field(min_length=1)  # type: ignore[valid-type]
    org_unit: str | None = Field(None, description="One of the seeded org units; the city by default.")
    expires_in_days: int = Field(365, ge=1, le=3650, description=(
        "Every issued key expires (at most 10 years); rotate it before then."))
    rate_limit: str | None = Field(None, examples=["20000/minute"], description=(
        "Requests this key may make, e.g. 100/second or 20000/minute; default FUNDWATCH_RATE_LIMIT_MACHINE."))

    @field_validator("rate_limit")
    @classmethod
    def _rate(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                parse(v)
            except ValueError:
                raise ValueError("expected a count per unit, e.g. 100/second or 20000/minute") from None
        return v


class KeyOut(BaseModel):
    key_id: str
    subject: str
    roles: list[str]
    org_unit: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None = None
    rate_limit: str | None = None


class IssuedKey(KeyOut):
    api_key: str = Field(description="Shown this once; only its digest is kept.")


@router.post("/api-keys", status_code=status.HTTP_201_CREATED, response_model=IssuedKey)
async def issue_key(body: KeyRequest, principal: Caller, runtime: RuntimeDep) -> IssuedKey:
    """Issue a key for a machine; to replace one, rotate it."""
    if body.org_unit is not None and body.org_unit not in ORG_UNITS:
        raise InvalidInput("unknown org unit", errors=[fault("org_unit", f"{body.org_unit!r}")])
    now = datetime.now(UTC)
    expires = now + timedelta(days=body.expires_in_days)
    async with runtime.engine.begin() as conn:
        if await conn.scalar(select(users.c.username).where(users.c.username == body.subject)) is not None:
            raise InvalidInput("the subject is a person's user name",
                               errors=[fault("subject", "a person's user name, not a machine's")])
        return await _issue(conn, runtime, principal, subject=body.subject, roles=list(body.roles),
                            org_unit=body.org_unit, expires_at=expires, rate_limit=body.rate_limit)


async def _issue(conn: AsyncConnection, runtime: Runtime, principal: Principal, *, subject: str, roles: list[str],
                 org_unit: str | None, expires_at: datetime | None, rate_limit: str | None) -> IssuedKey:
    key = f"fw_{secrets.token_urlsafe(32)}"
    digest = key_digest(key)
    event = ApiKeyIssued(key_id=digest[:12], subject=subject, roles=roles, org_unit=org_unit, expires_at=expires_at,
                         rate_limit=rate_limit)
    await runtime.store.append(conn, stream_id=f"api-key-{event.key_id}", stream_type="api_key",
                               expected_version=0, events=[event],
                               meta=runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit))
    row = (await conn.execute(api_keys.insert().values(
        key_hash=digest, key_id=event.key_id, subject=subject, roles=roles, org_unit=org_unit,
        created_at=datetime.now(UTC), expires_at=expires_at, rate_limit=rate_limit).returning(*api_keys.c))).one()
    return IssuedKey(api_key=key, **KeyOut.model_validate(dict(row._mapping)).model_dump())


@router.get("/api-keys", response_model=Page[KeyOut])
async def list_keys(_: Caller, runtime: RuntimeDep, asked: PagingDep) -> Page[KeyOut]:
    """Every key, without the keys themselves; newest first by (created_at, key_id)."""
    async with runtime.engine.connect() as conn:
        rows, next_cursor = await newest_first(conn, select(api_keys), api_keys.c.created_at, api_keys.c.key_id,
                                               asked.cursor, asked.limit)
    return Page[KeyOut](items=[KeyOut.model_validate(dict(r._mapping)) for r in rows], next_cursor=next_cursor)


class Revocation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500)


@router.post("/api-keys/{key_id}/revocation", response_model=KeyOut)
async def revoke_key(key_id: str, body: Revocation, request: Request, principal: Caller,
                     runtime: RuntimeDep) -> KeyOut:
    """Stop a key from working (at once here, within the cache time on other gateways)."""
    async with runtime.engine.begin() as conn:
        row = (await conn.execute(update(api_keys).where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
                                  .values(revoked_at=datetime.now(UTC)).returning(*api_keys.c))).first()
        if row is None:
            raise NotFound(f"no active API key {key_id}")
        version = await runtime.store.version(conn, f"api-key-{key_id}")
        await runtime.store.append(conn, stream_id=f"api-key-{key_id}", stream_type="api_key",
                                   expected_version=version, events=[ApiKeyRevoked(key_id=key_id, reason=body.reason)],
                                   meta=runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit))
    request.app.state.authenticate.forget()
    return KeyOut.model_validate(dict(row._mapping))


class Rotation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    overlap_hours: int = Field(24, ge=0, le=720, description=(
        "How long the old key keeps working beside the new one, for the machine to switch over."))
    expires_in_days: int = Field(365, ge=1, le=3650, description="The new key's life.")


class RotatedKey(BaseModel):
    new: IssuedKey
    old: KeyOut


@router.post("/api-keys/{key_id}/rotation", status_code=status.HTTP_201_CREATED, response_model=RotatedKey)
async def rotate_key(key_id: str, body: Rotation, request: Request, principal: Caller,
                     runtime: RuntimeDep) -> RotatedKey:
    """Replace a key: a new one with the same machine, roles and org unit, while the old one stays valid for
    `overlap_hours` (both work during the switch), then expires by itself."""
    now = datetime.now(UTC)
    async with runtime.engine.begin() as conn:
        old = (await conn.execute(select(api_keys).where(api_keys.c.key_id == key_id).with_for_update())).first()
        if old is None or old.revoked_at is not None or (old.expires_at is not None and old.expires_at <= now):
            raise NotFound(f"no active API key {key_id}")
        new = await _issue(conn, runtime, principal, subject=old.subject, roles=list(old.roles),
                           org_unit=old.org_unit, rate_limit=old.rate_limit,
                           expires_at=now + timedelta(days=body.expires_in_days))
        until = now + timedelta(hours=body.overlap_hours)
        if old.expires_at is not None:
            until = min(until, old.expires_at)
        changed = (await conn.execute(update(api_keys).where(api_keys.c.key_id == key_id)
                                      .values(expires_at=until, bootstrap=False).returning(*api_keys.c))).one()
        await runtime.store.append(
            conn, stream_id=f"api-key-{key_id}", stream_type="api_key",
            expected_version=await runtime.store.version(conn, f"api-key-{key_id}"),
            events=[ApiKeyRotated(key_id=key_id, new_key_id=new.key_id, old_expires_at=until)],
            meta=runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit))
    request.app.state.authenticate.forget()
    return RotatedKey(new=new, old=KeyOut.model_validate(dict(changed._mapping)))
