"""The read model of export requests, projected inline from their events."""

from collections.abc import Sequence

from sqlalchemy import Column, DateTime, Table, Text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.envelope import EventEnvelope
from contracts.gateway import ExportCosigned, ExportDownloaded, ExportRequested
from gateway.exports.domain import ExportStatus
from gateway.projections import metadata

export_requests = Table(
    "export_requests", metadata,
    Column("export_id", Text, primary_key=True), Column("path", Text), Column("params", JSONB),
    Column("purpose", Text), Column("recipient", Text), Column("requester", Text), Column("requester_org_unit", Text),
    Column("requested_at", DateTime(timezone=True)), Column("status", Text), Column("cosigner", Text),
    Column("opinion", Text), Column("cosigned_at", DateTime(timezone=True)),
    Column("download_until", DateTime(timezone=True)), Column("downloaded_at", DateTime(timezone=True)),
    Column("download_claimed_at", DateTime(timezone=True)),
)


async def project_exports(conn: AsyncConnection, envelopes: Sequence[EventEnvelope]) -> None:
    """A row per export request, moved along by its co-signature and its download."""
    rows = export_requests.c
    for env in envelopes:
        if env.event_type == ExportRequested.event_type:
            e = ExportRequested.model_validate(env.payload)
            await conn.execute(export_requests.insert().values(
                **e.model_dump(), requested_at=env.occurred_at, status=ExportStatus.REQUESTED))
        elif env.event_type == ExportCosigned.event_type:
            c = ExportCosigned.model_validate(env.payload)
            await conn.execute(update(export_requests).where(rows.export_id == c.export_id).values(
                status=c.decision, cosigner=c.cosigner, opinion=c.opinion, cosigned_at=env.occurred_at,
                download_until=c.download_until))
        elif env.event_type == ExportDownloaded.event_type:
            d = ExportDownloaded.model_validate(env.payload)
            await conn.execute(update(export_requests).where(rows.export_id == d.export_id).values(
                status=ExportStatus.DOWNLOADED, downloaded_at=env.occurred_at))
