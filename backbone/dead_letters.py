"""Dead letters as operators list them, and replaying one once its cause is fixed (a bug deployed away,
reference data added): the event goes to the handler of the consumer that gave up on it, in one transaction
with the mark that it was replayed, by whom and when. A replay that fails again is counted and reported; the
letter stays.

The consumer had recorded the event as processed when it gave up, so a replay is the only way it is applied;
a replayed letter is not replayed twice.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import structlog
from pydantic import BaseModel, Field
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from backbone.bus import PoisonMessage, from_message
from backbone.clock import clock
from backbone.consumer import Batched, Handler, apply_one
from backbone.errors import DomainError, NotFound
from backbone.tables import PlumbingTables

log = structlog.get_logger(__name__)


class DeadLetter(BaseModel):
    """An event a consumer gave up on, as operators list them: where it came from and why it failed."""

    id: int
    consumer: str
    topic: str
    partition: int
    offset: int
    event_id: UUID | None = Field(description="Null when the message was no event at all.")
    event_type: str | None
    error: str
    attempts: int
    failed_at: datetime
    replayed_at: datetime | None
    replayed_by: str | None


class ReplayRefused(DomainError):
    status = 409
    type_name = "replay-refused"
    title = "The dead letter cannot be replayed"


async def replay(engine: AsyncEngine, tables: PlumbingTables, letter_id: int,
                 handlers_of: Mapping[str, Mapping[str, Handler | Batched]], actor: str) -> dict[str, Any]:
    """Apply a dead letter's event with the handler it failed in; the letter, marked replayed."""
    letters = tables.dead_letters
    async with engine.begin() as conn:
        row = (await conn.execute(select(letters).where(letters.c.id == letter_id).with_for_update())).first()
        if row is None:
            raise NotFound(f"no dead letter {letter_id}")
        if row.replayed_at is not None:
            raise ReplayRefused(f"dead letter {letter_id} was replayed at {row.replayed_at.isoformat()} by "
                                f"{row.replayed_by}")
        try:
            envelope = from_message(row.value, tuple((k, v.encode()) for k, v in row.headers.items()))
        except PoisonMessage as exc:
            raise ReplayRefused(f"dead letter {letter_id} is no event: {exc}") from None
        handler = handlers_of.get(row.consumer, {}).get(envelope.event_type)
        if handler is None:
            raise ReplayRefused(f"{row.consumer} no longer handles {envelope.event_type}")
        error = None
        try:
            async with conn.begin_nested():
                await apply_one(handler, conn, envelope)
        except Exception as exc:  # noqa: BLE001 - reported to the operator, counted on the letter
            error = repr(exc)
        values = ({"replayed_at": clock().now(), "replayed_by": actor} if error is None
                  else {"attempts": row.attempts + 1, "error": error})
        done = (await conn.execute(update(letters).where(letters.c.id == letter_id).values(**values)
                                   .returning(letters.c.id, letters.c.consumer, letters.c.event_type,
                                              letters.c.attempts, letters.c.error, letters.c.replayed_at,
                                              letters.c.replayed_by))).one()
    if error is not None:
        log.warning("dead_letter.replay_failed", letter=letter_id, consumer=row.consumer, error=error)
        raise ReplayRefused(f"the handler failed again: {error[:500]}", attempts=row.attempts + 1)
    log.info("dead_letter.replayed", letter=letter_id, consumer=row.consumer, by=actor)
    return dict(done._mapping)
