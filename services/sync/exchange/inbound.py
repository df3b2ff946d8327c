"""Messages from the province (数据交换, inbound): `POST /api/v1/exchange/inbound` under the province's API key,
each checked against the JSON Schemas of contracts/exchange and the province's signature, taken once per
message_id (the same message again gets the same receipt and changes nothing), and answered with the city's
receipt (回执). What each kind does is in APPLY."""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from fastapi import APIRouter, Body
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.clock import clock
from backbone.errors import DomainError, InvalidInput, fault
from backbone.identity import CurrentPrincipal
from backbone.pages import Page, PagingDep
from backbone.paging import newest_first
from backbone.service import Runtime, RuntimeDep
from backbone.settings import Settings
from contracts.province import (INBOUND, IndicatorsIssued, MessageKind, PermissionAnswer, Receipt, ReceiptNotice,
                                RuleLevels, schema_faults, verify)
from contracts.sync import PermissionAnswerReceived, RuleLevelsReceived
from services.sync.exchange.answers import record_answer
from services.sync.exchange.lifecycle import step_for_receipt
from services.sync.exchange.reconciliation import record_issued
from services.sync.projections import inbound, messages

router = APIRouter(prefix="/api/v1/exchange", tags=["exchange"])


class MessageIdTaken(DomainError):
    """Another message came under this message_id before: the province names each message once."""

    status = 409
    type_name = "message-id-taken"
    title = "The message_id names another message"


def checked(message: Any, settings: Settings) -> dict[str, Any]:
    """The message if it keeps the schemas, comes from the province and is signed by its key (InvalidInput
    naming the field otherwise)."""
    if faults := schema_faults(message):
        raise InvalidInput("the message does not keep the exchange's schemas",
                           errors=[fault(field, words) for field, words in faults])
    if message["kind"] not in INBOUND:
        raise InvalidInput(f"{message['kind']} is not a message the province sends",
                           errors=[fault("kind", f"one of {', '.join(sorted(INBOUND))}")])
    if message["key_id"] != settings.province_key_id:
        raise InvalidInput(f"unknown key {message['key_id']}",
                           errors=[fault("key_id", f"the province signs as {settings.province_key_id}")])
    if not verify(message, settings.province_public_key):
        raise InvalidInput("the signature is not the province's over this message",
                           errors=[fault("signature", "does not match the province's key")])
    return message


class InboundOut(BaseModel):
    """A message the province sent, as it came, with the receipt the city gave."""

    message_id: str
    kind: MessageKind
    schema_version: int
    key_id: str = Field(description="The province's key that signed it.")
    payload: dict[str, Any]
    receipt: dict[str, Any]
    received_at: datetime


@router.get("/inbound", response_model=Page[InboundOut])
async def list_inbound(runtime: RuntimeDep, asked: PagingDep, kind: MessageKind | None = None) -> Page[InboundOut]:
    """What the province sent (指标下达, receipts, permission answers, rule levels), newest first by (received_at,
    message_id): the information center's record of the exchange (第十四条(一))."""
    query = select(inbound) if kind is None else select(inbound).where(inbound.c.kind == kind)
    async with runtime.engine.connect() as conn:
        rows, next_cursor = await newest_first(conn, query, inbound.c.received_at, inbound.c.message_id,
                                               asked.cursor, asked.limit)
    return Page[InboundOut](items=[InboundOut.model_validate(dict(r._mapping)) for r in rows],
                            next_cursor=next_cursor)


@router.post("/inbound", response_model=Receipt, responses={409: {"description": "message_id names another message"}})
async def take_inbound(principal: CurrentPrincipal, runtime: RuntimeDep,
                       message: dict[str, Any] = Body(description="A signed message of the province "
                                                                  "(contracts/exchange/message.json).")) -> Receipt:
    """Take a message from the province and answer its receipt: the same message again gets the same receipt."""
    checked(message, runtime.settings)
    message_id, now = message["message_id"], clock().now()
    async with runtime.engine.begin() as conn:
        # One taker per message_id: the same message sent twice at once is taken once.
        await conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"sync.inbound.{message_id}"))))
        held = (await conn.execute(select(inbound).where(inbound.c.message_id == message_id))).first()
        if held is not None:
            if held.signature != message["signature"]:
                raise MessageIdTaken(f"message {message_id} was another message", message_id=message_id)
            return Receipt.model_validate(held.receipt)
        await APPLY[MessageKind(message["kind"])](conn, runtime, message, principal.subject)
        receipt = Receipt(message_id=message_id, status="accepted", received_at=now,
                          receipt_id=str(uuid5(NAMESPACE_URL, f"fundwatch:receipt:{message_id}")))
        await conn.execute(insert(inbound).values(
            message_id=message_id, kind=message["kind"], schema_version=message["schema_version"],
            key_id=message["key_id"], payload=message["payload"], signature=message["signature"],
            receipt=receipt.model_dump(mode="json"), received_at=now))
    return receipt


async def _issued(conn: AsyncConnection, runtime: Runtime, message: dict[str, Any], actor: str) -> None:
    """指标下达: each indicator kept and matched with the ledger."""
    for item in IndicatorsIssued.model_validate(message["payload"]).indicators:
        await record_issued(conn, runtime.store, item, message["message_id"], actor)


async def _receipt(conn: AsyncConnection, runtime: Runtime, message: dict[str, Any], actor: str) -> None:
    """回执 / 退回 of a message of the city: the same step as an answer at delivery."""
    notice = ReceiptNotice.model_validate(message["payload"])
    row = (await conn.execute(select(messages.c.message_id, messages.c.kind, messages.c.status).where(
        messages.c.message_id == notice.message_id).with_for_update())).first()
    if row is None:
        raise InvalidInput(f"no message {notice.message_id} was sent to the province",
                           errors=[fault("payload.message_id", "no message of the city has this id")])
    step = step_for_receipt(row.status, notice.status)
    if step is None:
        return
    receipt = message["payload"] | {"receipt_message_id": message["message_id"]}
    error = f"退回: {notice.reason or 'no reason given'}" if notice.status == "returned" else None
    await record_answer(conn, runtime.store, row, step, now=clock().now(), receipt=receipt, error=error)


async def _permission_answer(conn: AsyncConnection, runtime: Runtime, message: dict[str, Any], actor: str) -> None:
    """反馈 on a forwarded application: the gateway applies it (its accounts are its own)."""
    answer = PermissionAnswer.model_validate(message["payload"])
    forwarded = await conn.scalar(select(messages.c.message_id).where(
        messages.c.kind == MessageKind.PERMISSION_APPLICATION, messages.c.subject == answer.application_id))
    if forwarded is None:
        raise InvalidInput(f"no application {answer.application_id} was forwarded to the province",
                           errors=[fault("payload.application_id", "no forwarded application has this id")])
    await _append(conn, runtime, message, actor, PermissionAnswerReceived(
        message_id=message["message_id"], **answer.model_dump(exclude={"schema_version"})))


async def _rule_levels(conn: AsyncConnection, runtime: Runtime, message: dict[str, Any], actor: str) -> None:
    """预警级别 (第二十条): alerting applies them to its rules."""
    levels = RuleLevels.model_validate(message["payload"]).levels
    await _append(conn, runtime, message, actor, RuleLevelsReceived(message_id=message["message_id"], levels=levels))


async def _append(conn: AsyncConnection, runtime: Runtime, message: dict[str, Any], actor: str, event: Any) -> None:
    await runtime.store.append(conn, stream_id=f"inbound-{message['message_id']}", stream_type="inbound",
                               expected_version=0, events=[event], meta=runtime.store.metadata(actor=actor))


APPLY: dict[MessageKind, Callable[[AsyncConnection, Runtime, dict[str, Any], str], Awaitable[None]]] = {
    MessageKind.INDICATORS_ISSUED: _issued,
    MessageKind.RECEIPT: _receipt,
    MessageKind.PERMISSION_ANSWER: _permission_answer,
    MessageKind.RULE_LEVELS: _rule_levels,
}
