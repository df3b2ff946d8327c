"""Permission applications as they stand (a projection of their events), and the ID numbers they carry,
encrypted, beside them: events and the projection hold only the mask."""

from collections.abc import Sequence

from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, Table, Text, column, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.envelope import EventEnvelope
from contracts.gateway import (InitialPasswordIssued, PermissionApplicationDecided, PermissionApplicationForwarded,
                               PermissionApplicationResubmitted, PermissionApplicationReturned,
                               PermissionApplicationSubmitted)
from gateway.applications.domain import OPEN_STATUSES, Status
from gateway.projections import metadata

applications = Table(
    "permission_applications", metadata,
    Column("application_id", Text, primary_key=True), Column("kind", Text), Column("status", Text),
    Column("username", Text), Column("org_unit", Text), Column("division", Text),
    Column("form", JSONB), Column("content_digest", Text), Column("applicant", Text),
    Column("applicant_org_unit", Text), Column("return_reason", Text), Column("province_remarks", Text),
    Column("submitted_at", DateTime(timezone=True)), Column("updated_at", DateTime(timezone=True)),
    Column("version", Integer),
    # One open application per user name: two at once would contradict each other.
    Index("permission_applications_open_username", "username", unique=True,
          postgresql_where=column("status").in_(OPEN_STATUSES)),
)
id_numbers = Table(
    "permission_application_id_numbers", metadata,
    Column("application_id", Text, ForeignKey(applications.c.application_id), primary_key=True),
    Column("id_cipher", Text),
)


def stream_of(application_id: str) -> str:
    return f"permission-application-{application_id}"


async def project_applications(conn: AsyncConnection, envelopes: Sequence[EventEnvelope]) -> None:
    """Inline projection: each application's form and status."""
    c = applications.c
    for env in envelopes:
        at = {"updated_at": env.occurred_at}
        if env.event_type == PermissionApplicationSubmitted.event_type:
            e = PermissionApplicationSubmitted.model_validate(env.payload)
            await conn.execute(applications.insert().values(
                application_id=e.application_id, kind=e.kind, status=Status.SUBMITTED, **_placed(env.payload["form"]),
                content_digest=e.content_digest, applicant=env.metadata.actor,
                applicant_org_unit=env.metadata.org_unit, submitted_at=env.occurred_at, version=env.version, **at))
        elif env.event_type == PermissionApplicationResubmitted.event_type:
            await _set(conn, env, status=Status.SUBMITTED, **_placed(env.payload["form"]), **at)
        elif env.event_type == PermissionApplicationReturned.event_type:
            await _set(conn, env, status=Status.RETURNED, return_reason=env.payload["reason"], **at)
        elif env.event_type == PermissionApplicationForwarded.event_type:
            await _set(conn, env, status=Status.FORWARDED, **at)
        elif env.event_type == PermissionApplicationDecided.event_type:
            e = PermissionApplicationDecided.model_validate(env.payload)
            await _set(conn, env, status=e.decision, province_remarks=e.remarks, **at)
        elif env.event_type == InitialPasswordIssued.event_type:
            # Told on the user's stream: the application's own version stays.
            await conn.execute(update(applications).where(c.application_id == env.payload["application_id"])
                               .values(status=Status.ISSUED, **at))


def _placed(form: dict) -> dict:
    return {"form": form, "username": form["username"], "org_unit": form["org_unit"], "division": form["division"]}


async def _set(conn: AsyncConnection, env: EventEnvelope, **values: object) -> None:
    await conn.execute(update(applications).where(applications.c.application_id == env.payload["application_id"])
                       .values(version=env.version, **values))
