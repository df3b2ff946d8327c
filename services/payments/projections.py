"""Read model of payments."""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Column, DateTime, MetaData, Numeric, Table, Text, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.db import bulk_insert, bulk_upsert
from contracts.envelope import EventEnvelope
from contracts.payments import PaymentRecorded, PaymentRefunded

metadata = MetaData(schema="payments")
ZERO = Decimal("0.00")
# A batch's payments go in by COPY from this many on: its rows hold the columns' own types.
COPY_PAYMENTS_FROM = 20

payments = Table(
    "payments", metadata,
    Column("payment_id", Text, primary_key=True), Column("indicator_id", Text),
    Column("payer_name", Text), Column("payer_account", Text), Column("amount", Numeric(18, 2)),
    Column("paid_at", DateTime(timezone=True)), Column("purpose", Text), Column("settlement_method", Text),
    Column("payment_method", Text), Column("payee_name", Text), Column("payee_account", Text),
    Column("payee_type", Text), Column("payee_id_masked", Text), Column("org_unit", Text),
    Column("content_hash", Text), Column("recorded_at", DateTime(timezone=True)), Column("recorded_by", Text),
    Column("refunded", Numeric(18, 2)), Column("payee_id_index", Text), Column("payee_credit_code", Text),
    Column("payee_registry", JSONB),
)

personal_data = Table(
    "personal_data", metadata,
    Column("blind_index", Text, primary_key=True), Column("cipher", Text),
    Column("first_seen", DateTime(timezone=True)),
)

refunds = Table(
    "refunds", metadata,
    Column("refund_id", Text, primary_key=True), Column("payment_id", Text), Column("kind", Text),
    Column("amount", Numeric(18, 2)), Column("refunded_at", DateTime(timezone=True)), Column("reason", Text),
    Column("content_hash", Text), Column("recorded_at", DateTime(timezone=True)), Column("recorded_by", Text),
)


async def project_payments(conn: AsyncConnection, envelopes: Sequence[EventEnvelope]) -> None:
    """Inline projection: one row per recorded payment, and its refunds."""
    # From the payload as stored (validated as it was recorded): validating a batch's thousand payments again
    # cost as much as writing them.
    rows = [
        {**e.payload, "amount": Decimal(e.payload["amount"]), "paid_at": datetime.fromisoformat(e.payload["paid_at"]),
         "recorded_at": e.occurred_at, "recorded_by": e.metadata.actor, "refunded": ZERO}
        for e in envelopes
        if e.event_type == PaymentRecorded.event_type
    ]
    await bulk_insert(conn, payments, rows, copy_from=COPY_PAYMENTS_FROM)
    for e in envelopes:
        if e.event_type == PaymentRefunded.event_type:
            r = PaymentRefunded.model_validate(e.payload)
            await conn.execute(refunds.insert().values(
                refund_id=r.refund_id, payment_id=r.payment_id, kind=r.kind, amount=r.amount,
                refunded_at=r.refunded_at, reason=r.reason, content_hash=r.content_hash,
                recorded_at=e.occurred_at, recorded_by=e.metadata.actor))
            await conn.execute(update(payments).where(payments.c.payment_id == r.payment_id)
                               .values(refunded=r.refunded_total))


async def content_hashes(conn: AsyncConnection, payment_ids: Sequence[str]) -> dict[str, str]:
    """The stored content digest of each already recorded payment id."""
    result = await conn.execute(
        select(payments.c.payment_id, payments.c.content_hash).where(payments.c.payment_id.in_(list(payment_ids)))
    )
    return dict(result.tuples().all())


async def keep_personal_data(conn: AsyncConnection, vault: Sequence[tuple[str, str]]) -> None:
    """Each ID number once, encrypted, under its blind index (the vault: events never carry the number)."""
    rows = {index: cipher for index, cipher in vault}
    await bulk_upsert(conn, personal_data, [{"blind_index": i, "cipher": c} for i, c in rows.items()],
                      key=("blind_index",), replace=False)
