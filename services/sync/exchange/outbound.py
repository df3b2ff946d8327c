"""Putting a message to the province in the queue (数据交换): signed once, when it is made, so that every attempt
sends the same bytes; routine data waits for the poverty office's standing authorization (第二十七条), a co-signed
message goes out at once."""

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from pydantic import BaseModel
from sqlalchemy import exists, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.settings import Settings
from contracts.province import MessageKind, sign
from services.sync.exchange.lifecycle import MessageStatus
from services.sync.projections import authorizations, messages

# Kinds that go out under a standing authorization; the others each need the poverty office's co-signature,
# but for the treasury's own acts: its report of an application (第二十五条(二)) and of the year's requirements
# and rules (第十六条) are the treasury's to make, and neither is the monitoring data (资金数据) that 第二十七条 has
# the poverty office co-sign; the treasury's acceptance and its submission are the act that sends them.
ROUTINE = frozenset({MessageKind.DAILY_ROLLUP})
# Kinds made only once the poverty office has co-signed them (the monthly report): nothing left to wait for.
COSIGNED = frozenset({MessageKind.MONTHLY_REPORT})
TREASURY_ACTS = frozenset({MessageKind.PERMISSION_APPLICATION, MessageKind.RULE_SUBMISSION})


def message_id_for(kind: MessageKind, subject: str) -> str:
    """The same message always has the same id (a re-made one is deduplicated by the province too)."""
    return str(uuid5(NAMESPACE_URL, f"fundwatch:exchange:{kind.value}:{subject}"))


def signed(message_id: str, kind: MessageKind, payload: BaseModel, settings: Settings) -> dict[str, Any]:
    """The message as it goes on the wire, signed with the city's exchange key."""
    body = {"message_id": message_id, "kind": kind.value, "schema_version": payload.schema_version,  # type: ignore[attr-defined]
            "key_id": settings.exchange_key_id, "payload": payload.model_dump(mode="json")}
    return body | {"signature": sign(body, settings.exchange_signing_key.get_secret_value())}


async def enqueue(conn: AsyncConnection, kind: MessageKind, subject: str, payload: BaseModel, settings: Settings,
                  now: datetime) -> str:
    """Queue a message about `subject` (e.g. `2026-11-09/220102/v1`) in the caller's transaction; its id."""
    message_id = message_id_for(kind, subject)
    wire = signed(message_id, kind, payload, settings)
    await hold_kind(conn, kind)
    authorized = await conn.scalar(select(exists().where(authorizations.c.kind == kind.value,
                                                         authorizations.c.status == "active")))
    released = kind in COSIGNED or kind in TREASURY_ACTS or (authorized and kind in ROUTINE)
    status = MessageStatus.PENDING if released else MessageStatus.AWAITING_AUTHORIZATION
    await conn.execute(insert(messages).values(
        message_id=message_id, kind=kind.value, schema_version=wire["schema_version"], subject=subject,
        payload=wire["payload"], signature=wire["signature"], key_id=wire["key_id"], status=status, attempts=0,
        next_attempt_at=now, created_at=now, updated_at=now).on_conflict_do_nothing())
    return message_id


async def hold_kind(conn: AsyncConnection, kind: MessageKind) -> None:
    """Take a kind's turn until the transaction ends: a message made while its authorization is granted or revoked
    would otherwise miss the move from one status to the other."""
    await conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"sync.exchange.{kind.value}"))))


def wire_of(row: Any) -> dict[str, Any]:
    """A stored message as it goes on the wire."""
    return {"message_id": row.message_id, "kind": row.kind, "schema_version": row.schema_version,
            "key_id": row.key_id, "payload": row.payload, "signature": row.signature}
