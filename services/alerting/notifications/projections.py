"""The register and the deliveries: the liaison register's rows (from its events), each message planned or sent,
and the bells that wait for their day's digest. Tables of alerting's schema."""

from collections.abc import Sequence

from sqlalchemy import BigInteger, Column, Date, DateTime, Integer, Table, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.envelope import EventEnvelope
from contracts.notifications import LiaisonsSet
from services.alerting.projections import metadata

# 第十八条: each unit's 责任领导 and 具体联络人员 as last set (its events: stream liaisons-<unit>).
liaisons = Table(
    "liaisons", metadata,
    Column("unit", Text, primary_key=True), Column("unit_kind", Text, nullable=False),
    Column("leader", JSONB, nullable=False), Column("contact", JSONB, nullable=False),
    Column("set_by", Text, nullable=False), Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
)

# One row per message: its key is unique, so a message planned twice (an event delivered again) is sent once.
deliveries = Table(
    "deliveries", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("delivery_key", Text, nullable=False, unique=True),
    Column("channel", Text, nullable=False), Column("recipient", Text, nullable=False),
    Column("unit", Text, nullable=False), Column("role", Text, nullable=False), Column("kind", Text, nullable=False),
    Column("subject_key", Text, nullable=False), Column("title", Text, nullable=False),
    Column("body", Text, nullable=False), Column("status", Text, nullable=False),
    Column("attempts", Integer, nullable=False), Column("last_error", Text),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False), Column("sent_at", DateTime(timezone=True)),
)

# Yellow bells by the Beijing day they rang and the office they are routed to, until that day's digest is planned.
digest_bells = Table(
    "digest_bells", metadata,
    Column("alert_id", Text, primary_key=True), Column("office", Text, primary_key=True),
    Column("day", Date, nullable=False), Column("rule_number", Text, nullable=False),
    Column("rule_name", Text, nullable=False), Column("summary", Text, nullable=False),
    Column("digested_at", DateTime(timezone=True)),
)


async def project_liaisons(conn: AsyncConnection, envelopes: Sequence[EventEnvelope]) -> None:
    """Inline projection of the register."""
    for env in envelopes:
        if env.event_type != LiaisonsSet.event_type:
            continue
        e = LiaisonsSet.model_validate(env.payload)
        row = {"unit_kind": e.unit_kind, "leader": e.leader.model_dump(), "contact": e.contact.model_dump(),
               "set_by": e.set_by, "updated_at": e.at, "version": env.version}
        await conn.execute(pg_insert(liaisons).values(unit=e.unit, **row)
                           .on_conflict_do_update(index_elements=[liaisons.c.unit], set_=row))
