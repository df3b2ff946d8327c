"""What the audit trail learns from other services' events: reads of unmasked personal data
(payments appends `registry.PersonalDataRevealed` in the transaction that answers the read)."""

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.consumer import Handler
from backbone.pii import redact_id_numbers
from backbone.service import Runtime
from contracts.envelope import EventEnvelope
from contracts.registry import PersonalDataRevealed
from gateway.audit.chain import AuditEntry
from gateway.audit.trail import append_entries

REVEAL = "personal_data.reveal"


def handlers(_: Runtime) -> Mapping[str, Handler]:
    """Only reveals: the registry topic's other events (parts of a thousand people) are not even read."""
    return {PersonalDataRevealed.event_type: record_reveal}


def trace_id_of(traceparent: str | None) -> str | None:
    """The trace id of a W3C traceparent (`00-<trace id>-<span id>-<flags>`)."""
    parts = (traceparent or "").split("-")
    return parts[1] if len(parts) == 4 and len(parts[1]) == 32 else None


async def record_reveal(conn: AsyncConnection, env: EventEnvelope) -> None:
    """A full ID number was read: one entry per event, however often the event comes."""
    e = PersonalDataRevealed.model_validate(env.payload)
    await append_entries(conn, [AuditEntry(
        at=env.occurred_at, actor=env.metadata.actor, org_unit=env.metadata.org_unit, client_ip=None,
        action=REVEAL, target=redact_id_numbers(e.person.id_masked), outcome="found" if e.found else "not_found",
        trace_id=trace_id_of(env.metadata.traceparent), event_id=env.event_id)])
