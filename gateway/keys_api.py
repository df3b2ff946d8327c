"""Machine API keys: issued, listed, revoked by administrators; two may be valid during a switch."""

import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, update

from backbone.errors import Forbidden, InvalidInput, NotFound
from backbone.identity import Principal
from backbone.service import RuntimeDep
from contracts.gateway import ApiKeyIssued, ApiKeyRevoked
from contracts.values import ORG_UNITS
from gateway.auth import key_digest
from gateway.projections import api_keys

router = APIRouter(prefix="/api/v1", tags=["auth"])


async def caller(request: Request) -> Principal:
    """The authenticated caller of a route the gateway answers itself."""
    principal = request.state.principal = await request.app.state.authenticate(request)
    return principal


async def administrator(principal: Annotated[Principal, Depends(caller)]) -> Principal:
    if not principal.has_any("admin"):
        raise Forbidden("managing API keys needs the admin role")
    return principal


Administrator = Annotated[Principal, Depends(administrator)]


class KeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: str = Field(min_length=1, max_length=100, examples=["treasury-system"])
    roles: list[Literal["treasury_system", "province_system"]] = Field(min_length=1)
    org_unit: str | None = Field(None, description="One of the seeded org units; the city by default.")
    expires_in_days: int | None = Field(365, ge=1, le=3650, description="None: until revoked.")


class KeyOut(BaseModel):
    key_id: str
    subject: str
    roles: list[str]
    org_unit: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None = None


class IssuedKey(KeyOut):
    api_key: str = Field(description="Shown this once; only its digest is kept.")


@router.post("/api-keys", status_code=status.HTTP_201_CREATED, response_model=IssuedKey)
async def issue_key(body: KeyRequest, principal: Administrator, runtime: RuntimeDep) -> IssuedKey:
    """Issue a key; to rotate, issue the new one, switch the machine over, then revoke the old one."""
    if body.org_unit is not None and body.org_unit not in ORG_UNITS:
        raise InvalidInput("unknown org unit", errors=[{"field": "org_unit", "message": f"{body.org_unit!r}"}])
    key = f"fw_{secrets.token_urlsafe(32)}"
    digest = key_digest(key)
    now = datetime.now(UTC)
    expires = now + timedelta(days=body.expires_in_days) if body.expires_in_days else None
    event = ApiKeyIssued(key_id=digest[:12], subject=body.subject, roles=list(body.roles),
                         org_unit=body.org_unit, expires_at=expires)
    async with runtime.engine.begin() as conn:
        await runtime.store.append(conn, stream_id=f"api-key-{event.key_id}", stream_type="api_key",
                                   expected_version=0, events=[event],
                                   meta=runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit))
        await conn.execute(api_keys.insert().values(
            key_hash=digest, key_id=event.key_id, subject=body.subject, roles=list(body.roles),
            org_unit=body.org_unit, created_at=now, expires_at=expires))
    return IssuedKey(api_key=key, key_id=event.key_id, subject=body.subject, roles=list(body.roles),
                     org_unit=body.org_unit, created_at=now, expires_at=expires)


@router.get("/api-keys", response_model=list[KeyOut])
async def list_keys(_: Administrator, runtime: RuntimeDep) -> list[KeyOut]:
    """Every key, without the keys themselves."""
    async with runtime.engine.connect() as conn:
        rows = (await conn.execute(select(api_keys).order_by(api_keys.c.created_at))).all()
    return [KeyOut.model_validate(dict(r._mapping)) for r in rows]


class Revocation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500)


@router.post("/api-keys/{key_id}/revocation", response_model=KeyOut)
async def revoke_key(key_id: str, body: Revocation, request: Request, principal: Administrator,
                     runtime: RuntimeDep) -> KeyOut:
    """Stop a key from working (at once here, within the cache time on other gateways)."""
    async with runtime.engine.begin() as conn:
        row = (await conn.execute(update(api_keys).where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
                                  .values(revoked_at=datetime.now(UTC)).returning(*api_keys.c))).first()
        if row is None:
            raise NotFound(f"no active API key {key_id}")
        version = len(await runtime.store.read_stream(conn, f"api-key-{key_id}"))
        await runtime.store.append(conn, stream_id=f"api-key-{key_id}", stream_type="api_key",
                                   expected_version=version, events=[ApiKeyRevoked(key_id=key_id, reason=body.reason)],
                                   meta=runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit))
    request.app.state.authenticate.forget()
    return KeyOut.model_validate(dict(row._mapping))
