"""The exchange API (数据交换): the information center's queue of messages to the province and its resend
(第十四条(一)), and the poverty office's standing authorizations for routine data (第二十七条)."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any
from uuid import uuid4

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.clock import clock
from backbone.errors import DomainError, InvalidInput, NotFound, fault
from backbone.identity import CurrentPrincipal
from backbone.lifecycle import next_state
from backbone.pages import Page, PagingDep
from backbone.paging import newest_first
from backbone.service import Runtime, RuntimeDep
from contracts.province import MessageKind
from contracts.sync import ExchangeAuthorizationRevoked, ExchangeAuthorized
from services.sync.exchange.lifecycle import DeliveryStep, MessageStatus, after
from services.sync.exchange.outbound import ROUTINE, hold_kind
from services.sync.projections import authorizations, messages

router = APIRouter(prefix="/api/v1/exchange", tags=["exchange"])
MessageId = Annotated[str, Path(max_length=64)]


class MessageOut(BaseModel):
    message_id: str
    kind: MessageKind
    schema_version: int
    subject: str = Field(description="What it carries, e.g. 2026-11-09/220102/v1 (day, district, version).")
    status: MessageStatus
    attempts: int = Field(description="Attempts since it was made or last resent.")
    next_attempt_at: datetime
    last_error: str | None = Field(description="The province's reason for a refusal, or why the last attempt failed.")
    receipt: dict[str, Any] | None = Field(description="The province's answer (回执) as it gave it.")
    key_id: str = Field(description="The key that signed it.")
    payload: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class AuthorizationIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: MessageKind = Field(description="The kind of routine data authorized: daily_rollup.")
    note: str | None = Field(None, max_length=1000)


class RevocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=1000)


class AuthorizationStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"


class AuthorizationStep(StrEnum):
    REVOKE = "revoke"


AUTHORIZATION_TRANSITIONS = {(AuthorizationStatus.ACTIVE, AuthorizationStep.REVOKE): AuthorizationStatus.REVOKED}


class AuthorizationOut(BaseModel):
    authorization_id: str
    kind: MessageKind
    status: AuthorizationStatus
    granted_by: str
    granted_at: datetime
    note: str | None
    revoked_by: str | None
    revoked_at: datetime | None
    reason: str | None


class AlreadyAuthorized(DomainError):
    """A standing authorization of this kind is in force already: revoke it before granting another."""

    status = 409
    type_name = "already-authorized"
    title = "Already authorized"


@router.get("/messages", response_model=Page[MessageOut])
async def list_messages(runtime: RuntimeDep, asked: PagingDep, kind: MessageKind | None = None,
                        status: MessageStatus | None = None) -> Page[MessageOut]:
    """Messages to the province, newest first by (created_at, message_id); `status=refused` and `status=failed`
    are the information center's queue."""
    q = select(messages)
    if kind is not None:
        q = q.where(messages.c.kind == kind)
    if status is not None:
        q = q.where(messages.c.status == status)
    async with runtime.engine.connect() as conn:
        rows, next_cursor = await newest_first(conn, q, messages.c.created_at, messages.c.message_id, asked.cursor,
                                               asked.limit)
    return Page[MessageOut](items=[MessageOut.model_validate(dict(r._mapping)) for r in rows],
                            next_cursor=next_cursor)


@router.post("/messages/{message_id}/resend", response_model=MessageOut)
async def resend(runtime: RuntimeDep, message_id: MessageId) -> MessageOut:
    """Send a refused or failed message again, as it is (the same id, payload and signature): due at once, its
    attempts counted afresh."""
    now = clock().now()
    async with runtime.engine.begin() as conn:
        row = (await conn.execute(select(messages).where(messages.c.message_id == message_id)
                                  .with_for_update())).first()
        if row is None:
            raise NotFound(f"message {message_id} does not exist")
        status = after(MessageStatus(row.status), DeliveryStep.RESEND, message_id)
        updated = (await conn.execute(update(messages).where(messages.c.message_id == message_id).values(
            status=status, attempts=0, next_attempt_at=now, updated_at=now).returning(*messages.c))).one()
    return MessageOut.model_validate(dict(updated._mapping))


@router.get("/authorizations", response_model=Page[AuthorizationOut])
async def list_authorizations(runtime: RuntimeDep, asked: PagingDep) -> Page[AuthorizationOut]:
    """The poverty office's standing authorizations, revoked ones included, newest first by (granted_at, id)."""
    async with runtime.engine.connect() as conn:
        rows, next_cursor = await newest_first(conn, select(authorizations), authorizations.c.granted_at,
                                               authorizations.c.authorization_id, asked.cursor, asked.limit)
    return Page[AuthorizationOut](items=[AuthorizationOut.model_validate(dict(r._mapping)) for r in rows],
                                  next_cursor=next_cursor)


@router.post("/authorizations", status_code=201, response_model=AuthorizationOut)
async def authorize_kind(body: AuthorizationIn, principal: CurrentPrincipal, runtime: RuntimeDep) -> AuthorizationOut:
    """Authorize a kind of routine data to go to the province until revoked (局脱贫办, 第二十七条): what waited for
    it goes out now."""
    if body.kind not in ROUTINE:
        raise InvalidInput(f"{body.kind.value} is not routine data: each one needs the poverty office's co-signature",
                           errors=[fault("kind", "not routine data")])
    authorization_id = uuid4().hex
    async with runtime.engine.begin() as conn:
        await hold_kind(conn, body.kind)
        active = (await conn.execute(select(authorizations.c.authorization_id).where(
            authorizations.c.kind == body.kind, authorizations.c.status == AuthorizationStatus.ACTIVE))).scalar()
        if active is not None:
            raise AlreadyAuthorized(f"{body.kind.value} is authorized already ({active})", authorization_id=active)
        event = ExchangeAuthorized(authorization_id=authorization_id, kind=body.kind, granted_by=principal.subject,
                                   granted_at=clock().now(), note=body.note)
        await _append(conn, runtime, principal.subject, authorization_id, 0, event)
        return await _authorization(conn, authorization_id)


@router.post("/authorizations/{authorization_id}/revocation", response_model=AuthorizationOut)
async def revoke(body: RevocationIn, principal: CurrentPrincipal, runtime: RuntimeDep,
                 authorization_id: Annotated[str, Path(max_length=64)]) -> AuthorizationOut:
    """Revoke a standing authorization: messages of its kind not sent yet wait again."""
    async with runtime.engine.begin() as conn:
        row = (await conn.execute(select(authorizations).where(
            authorizations.c.authorization_id == authorization_id).with_for_update())).first()
        if row is None:
            raise NotFound(f"authorization {authorization_id} does not exist")
        next_state(AUTHORIZATION_TRANSITIONS, AuthorizationStatus(row.status), AuthorizationStep.REVOKE,
                   what=f"authorization {authorization_id}", where=row.status)
        await hold_kind(conn, MessageKind(row.kind))
        event = ExchangeAuthorizationRevoked(authorization_id=authorization_id, kind=row.kind,
                                             revoked_by=principal.subject, revoked_at=clock().now(), reason=body.reason)
        await _append(conn, runtime, principal.subject, authorization_id, 1, event)
        return await _authorization(conn, authorization_id)


async def _append(conn: AsyncConnection, runtime: Runtime, actor: str, authorization_id: str, version: int,
                  event: Any) -> None:
    await runtime.store.append(conn, stream_id=f"exchange-authorization-{authorization_id}",
                               stream_type="exchange-authorization", expected_version=version, events=[event],
                               meta=runtime.store.metadata(actor=actor))


async def _authorization(conn: AsyncConnection, authorization_id: str) -> AuthorizationOut:
    row = (await conn.execute(select(authorizations).where(
        authorizations.c.authorization_id == authorization_id))).one()
    return AuthorizationOut.model_validate(dict(row._mapping))
