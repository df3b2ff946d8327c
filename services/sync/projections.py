"""Sync's tables: the read model learned from the other contexts (indicators, money movements, alert and filing
steps, circulars), the daily rollups, the messages to and from the province, the indicators it issued and the standing
authorizations; and the inline projections of sync's own events."""

from collections.abc import Sequence

from sqlalchemy import (Boolean, Column, Date, DateTime, Index, Integer, MetaData, Numeric, Table, Text, and_, column,
                        insert, update)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.envelope import EventEnvelope
from contracts.sync import (ExchangeAuthorizationRevoked, ExchangeAuthorized, IndicatorIssued,
                            IssuedIndicatorReconciled, RollupComputed)
from services.sync.exchange.lifecycle import MessageStatus

metadata = MetaData(schema="sync")

indicators = Table(
    "indicators", metadata,
    Column("indicator_id", Text, primary_key=True), Column("fiscal_year", Integer), Column("org_unit", Text),
    Column("fund_name", Text), Column("parent_id", Text), Column("doc_no", Text), Column("amount", Numeric(18, 2)),
    Column("owner_division", Text), Column("issued_on", Date), Column("received_on", Date),
    Column("registered_on", Date),
)
movements = Table(
    "movements", metadata,
    Column("event_id", UUID(as_uuid=True), primary_key=True), Column("indicator_id", Text, primary_key=True),
    Column("kind", Text, primary_key=True), Column("amount", Numeric(18, 2)), Column("on_date", Date),
)
alert_steps = Table(
    "alert_steps", metadata,
    Column("event_id", UUID(as_uuid=True), primary_key=True), Column("alert_id", Text), Column("org_unit", Text),
    Column("level", Text), Column("status", Text), Column("at", DateTime(timezone=True)),
    Column("owner_division", Text), Column("rule_number", Text), Column("action", Text), Column("result", Text),
    Column("method", Text), Column("returned_amount", Numeric(18, 2)), Column("measures", JSONB),
)
# The measures taken on alerts (第二十二条(三)): kind is recovery, suspension, referral or circular.
measures_taken = Table(
    "measures_taken", metadata,
    Column("event_id", UUID(as_uuid=True), primary_key=True), Column("kind", Text), Column("alert_id", Text),
    Column("org_unit", Text), Column("owner_division", Text), Column("at", DateTime(timezone=True)),
    Column("withdrawn", Numeric(18, 2)), Column("shortfall", Numeric(18, 2)), Column("against", Text),
)
filing_steps = Table(
    "filing_steps", metadata,
    Column("event_id", UUID(as_uuid=True), primary_key=True), Column("filing_id", Text), Column("filing", Text),
    Column("org_unit", Text), Column("fiscal_year", Integer), Column("status", Text),
    Column("at", DateTime(timezone=True)), Column("owner_division", Text), Column("severe_count", Integer),
    Column("indicator_id", Text), Column("period_end", Date),
)
rollups = Table(
    "rollups", metadata,
    Column("rollup_date", Date, primary_key=True), Column("org_unit", Text, primary_key=True),
    Column("version", Integer, primary_key=True), Column("figures", JSONB), Column("reason", Text),
    Column("computed_at", DateTime(timezone=True)), Column("message_id", Text), Column("latest", Boolean),
)
messages = Table(
    "messages", metadata,
    Column("message_id", Text, primary_key=True), Column("kind", Text), Column("schema_version", Integer),
    Column("subject", Text), Column("payload", JSONB), Column("signature", Text), Column("key_id", Text),
    Column("status", Text), Column("attempts", Integer), Column("next_attempt_at", DateTime(timezone=True)),
    Column("last_error", Text), Column("receipt", JSONB), Column("created_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True)),
)
inbound = Table(
    "inbound", metadata,
    Column("message_id", Text, primary_key=True), Column("kind", Text, nullable=False),
    Column("schema_version", Integer, nullable=False), Column("key_id", Text, nullable=False),
    Column("payload", JSONB, nullable=False), Column("signature", Text, nullable=False),
    Column("receipt", JSONB, nullable=False), Column("received_at", DateTime(timezone=True), nullable=False),
)
issued_indicators = Table(
    "issued_indicators", metadata,
    Column("issue_id", Text, primary_key=True), Column("doc_no", Text, nullable=False, unique=True),
    Column("fund_name", Text, nullable=False), Column("amount", Numeric(18, 2), nullable=False),
    Column("issued_on", Date, nullable=False), Column("level", Text, nullable=False),
    Column("fiscal_year", Integer, nullable=False), Column("message_id", Text, nullable=False),
    Column("status", Text, nullable=False), Column("indicator_id", Text), Column("registered_amount", Numeric(18, 2)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
authorizations = Table(
    "authorizations", metadata,
    Column("authorization_id", Text, primary_key=True), Column("kind", Text), Column("status", Text),
    Column("granted_by", Text), Column("granted_at", DateTime(timezone=True)), Column("note", Text),
    Column("revoked_by", Text), Column("revoked_at", DateTime(timezone=True)), Column("reason", Text),
    # One standing authorization in force per kind of message.
    Index("authorizations_active", "kind", unique=True, postgresql_where=column("status") == "active"),
)


async def project_rollups(conn: AsyncConnection, envelopes: Sequence[EventEnvelope]) -> None:
    """Inline projection: each version of a district's day, the latest one marked."""
    for env in envelopes:
        if env.event_type != RollupComputed.event_type:
            continue
        e = RollupComputed.model_validate(env.payload)
        await conn.execute(update(rollups).where(rollups.c.rollup_date == e.rollup_date,
                                                 rollups.c.org_unit == e.org_unit).values(latest=False))
        await conn.execute(insert(rollups).values(
            rollup_date=e.rollup_date, org_unit=e.org_unit, version=e.version, figures=env.payload["figures"],
            reason=e.reason, computed_at=e.computed_at, message_id=e.message_id, latest=True))


async def project_authorizations(conn: AsyncConnection, envelopes: Sequence[EventEnvelope]) -> None:
    """Inline projection: the standing authorizations; granting one releases the messages of its kind that
    waited for it, revoking it holds back those not sent yet."""
    for env in envelopes:
        if env.event_type == ExchangeAuthorized.event_type:
            e = ExchangeAuthorized.model_validate(env.payload)
            await conn.execute(insert(authorizations).values(
                authorization_id=e.authorization_id, kind=e.kind, status="active", granted_by=e.granted_by,
                granted_at=e.granted_at, note=e.note))
            await _move(conn, e.kind, MessageStatus.AWAITING_AUTHORIZATION, MessageStatus.PENDING, env)
        elif env.event_type == ExchangeAuthorizationRevoked.event_type:
            e = ExchangeAuthorizationRevoked.model_validate(env.payload)
            await conn.execute(update(authorizations).where(authorizations.c.authorization_id == e.authorization_id)
                               .values(status="revoked", revoked_by=e.revoked_by, revoked_at=e.revoked_at,
                                       reason=e.reason))
            await _move(conn, e.kind, MessageStatus.PENDING, MessageStatus.AWAITING_AUTHORIZATION, env)


async def _move(conn: AsyncConnection, kind: str, from_status: MessageStatus, to_status: MessageStatus,
                env: EventEnvelope) -> None:
    # Released messages are due at once; the transition table allows exactly these two moves (authorize, withdraw).
    await conn.execute(update(messages).where(and_(messages.c.kind == kind, messages.c.status == from_status))
                       .values(status=to_status, next_attempt_at=env.occurred_at, updated_at=env.occurred_at))


async def project_issued(conn: AsyncConnection, envelopes: Sequence[EventEnvelope]) -> None:
    """Inline projection: each indicator the province issued, and how it stands against the ledger."""
    for env in envelopes:
        if env.event_type == IndicatorIssued.event_type:
            e = IndicatorIssued.model_validate(env.payload)
            fields = {"doc_no": e.doc_no, "fund_name": e.fund_name, "amount": e.amount, "issued_on": e.issued_on,
                      "level": e.level, "fiscal_year": e.fiscal_year, "message_id": e.message_id,
                      "updated_at": env.occurred_at, "status": "unregistered", "registered_amount": None}
            # Named again with other particulars (a corrected issue): judged afresh against what is registered.
            stmt = pg_insert(issued_indicators).values(issue_id=e.issue_id, **fields)
            await conn.execute(stmt.on_conflict_do_update(index_elements=[issued_indicators.c.issue_id], set_=fields))
        elif env.event_type == IssuedIndicatorReconciled.event_type:
            r = IssuedIndicatorReconciled.model_validate(env.payload)
            await conn.execute(update(issued_indicators).where(issued_indicators.c.issue_id == r.issue_id).values(
                status=r.outcome, indicator_id=r.indicator_id, registered_amount=r.registered_amount,
                updated_at=env.occurred_at))
