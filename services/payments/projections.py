"""Read model of payments."""

from collections.abc import Sequence

from sqlalchemy import Column, DateTime, MetaData, Numeric, Table, Text, select
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.db import bulk_insert
from contracts.envelope import EventEnvelope
from contracts.payments import PaymentRecorded

metadata = MetaData(schema="payments")

payments = Table(
    "payments", metadata,
    Column("payment_id", Text, primary_key=True), Column("indicator_id", Text),
    Column("payer_name", Text), Column("payer_account", Text), Column("amount", Numeric(18, 2)),
    Column("paid_at", DateTime(timezone=True)), Column("purpose", Text), Column("settlement_method", Text),
    Column("payment_method", Text), Column("payee_name", Text), Column("payee_account", Text),
    Column("payee_type", Text), Column("payee_id_masked", Text), Column("org_unit", Text),
    Column("content_hash", Text), Column("recorded_at", DateTime(timezone=True)), Column("recorded_by", Text),
)


async def project_payments(conn: AsyncConnection, envelopes: Sequence[EventEnvelope]) -> None:
    """Inline projection: one row per recorded payment."""
    rows = [
        {**PaymentRecorded.model_validate(e.payload).model_dump(), "recorded_at": e.occurred_at,
         "recorded_by": e.metadata.actor}
        for e in envelopes
        if e.event_type == PaymentRecorded.event_type
    ]
    await bulk_insert(conn, payments, rows)


async def content_hashes(conn: AsyncConnection, payment_ids: Sequence[str]) -> dict[str, str]:
    """The stored content digest of each already recorded payment id."""
    result = await conn.execute(
        select(payments.c.payment_id, payments.c.content_hash).where(payments.c.payment_id.in_(list(payment_ids)))
    )
    return dict(result.tuples().all())
