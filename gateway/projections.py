"""The gateway's tables: people (a projection of their events), credentials, sessions, machine keys."""

from collections.abc import Sequence

from sqlalchemy import ARRAY, BigInteger, Boolean, Column, DateTime, Index, Integer, MetaData, Table, Text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.envelope import EventEnvelope
from contracts.gateway import UserChanged, UserRegistered, UserRevoked

metadata = MetaData(schema="gateway")

users = Table(
    "users", metadata,
    Column("username", Text, primary_key=True), Column("display_name", Text), Column("org_unit", Text),
    Column("division", Text), Column("roles", ARRAY(Text)), Column("pii", Boolean),
    Column("created_at", DateTime(timezone=True)), Column("revoked_at", DateTime(timezone=True)),
)
credentials = Table(
    "credentials", metadata,
    Column("username", Text, primary_key=True), Column("password_hash", Text),
    Column("changed_at", DateTime(timezone=True)), Column("must_change", Boolean), Column("failed_count", Integer),
    Column("locked_until", DateTime(timezone=True)), Column("totp_cipher", Text), Column("totp_pending_cipher", Text),
    Column("totp_last_step", BigInteger),
)
sessions = Table(
    "sessions", metadata,
    Column("session_id", Text, primary_key=True), Column("username", Text),
    Column("issued_at", DateTime(timezone=True)), Column("last_seen_at", DateTime(timezone=True)),
    Column("expires_at", DateTime(timezone=True)), Column("must_change", Boolean),
    Column("ended_at", DateTime(timezone=True)), Column("ended_because", Text),
    Column("needs_second_factor", Boolean),
)
api_keys = Table(
    "api_keys", metadata,
    Column("key_hash", Text, primary_key=True), Column("subject", Text), Column("roles", ARRAY(Text)),
    Column("org_unit", Text), Column("created_at", DateTime(timezone=True)),
    Column("expires_at", DateTime(timezone=True)), Column("key_id", Text), Column("revoked_at", DateTime(timezone=True)),
    Column("bootstrap", Boolean), Column("rate_limit", Text),
    Index("api_keys_key_id", "key_id", unique=True),
)


async def project_users(conn: AsyncConnection, envelopes: Sequence[EventEnvelope]) -> None:
    """Inline projection: a users row per UserRegistered, changed and revoked by approved applications."""
    for env in envelopes:
        if env.event_type == UserRegistered.event_type:
            e = UserRegistered.model_validate(env.payload)
            await conn.execute(users.insert().values(**e.model_dump(exclude={"application_id"}),
                                                     created_at=env.occurred_at))
        elif env.event_type == UserChanged.event_type:
            changed = UserChanged.model_validate(env.payload).model_dump(exclude={"username", "application_id"})
            await conn.execute(update(users).where(users.c.username == env.payload["username"]).values(**changed))
        elif env.event_type == UserRevoked.event_type:
            await conn.execute(update(users).where(users.c.username == env.payload["username"])
                               .values(revoked_at=env.occurred_at))
