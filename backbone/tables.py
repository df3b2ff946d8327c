"""The plumbing tables every service keeps in its own schema. The DDL below is what the migrations run; the `Table`s
are how the code reads and writes them, and tests/integration/test_table_declarations.py holds the two alike."""

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.types import UserDefinedType


class Xid8(UserDefinedType[int]):
    """PostgreSQL's 64-bit transaction id, which SQLAlchemy does not know: the transaction that wrote an event."""

    cache_ok = True

    def get_col_spec(self) -> str:
        return "xid8"


@dataclass(frozen=True)
class PlumbingTables:
    """Event store, outbox, consumer tracking, dead letters and idempotency keys of one schema."""

    schema: str
    events: Table
    outbox: Table
    processed_events: Table
    dead_letters: Table
    idempotency_keys: Table


def plumbing_tables(metadata: MetaData) -> PlumbingTables:
    """Declare the plumbing tables in a service's metadata (its schema)."""
    events = Table(
        "events",
        metadata,
        Column("position", BigInteger, primary_key=True, autoincrement=True),
        Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
        Column("stream_id", Text, nullable=False),
        Column("stream_type", Text, nullable=False),
        Column("version", Integer, nullable=False),
        Column("event_type", Text, nullable=False),
        Column("schema_version", Integer, nullable=False),
        Column("occurred_at", DateTime(timezone=True), nullable=False),
        Column("recorded_at", DateTime(timezone=True)),
        # The database sets it (DEFAULT pg_current_xact_id()); `EventStore.read_all` reads in its order.
        Column("tx_id", Xid8, nullable=False),
        Column("metadata", JSONB, nullable=False),
        Column("payload", JSONB, nullable=False),
        Column("partition_key", Text),
        # Two appends at one version collide here: the later one is a `ConcurrencyConflict`.
        UniqueConstraint("stream_id", "version"),
    )
    outbox = Table(
        "outbox",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("event_position", BigInteger, nullable=False),
        Column("published_at", DateTime(timezone=True)),
    )
    processed = Table(
        "processed_events",
        metadata,
        Column("consumer", Text, primary_key=True),
        Column("event_id", UUID(as_uuid=True), primary_key=True),
        Column("processed_at", DateTime(timezone=True)),
    )
    dead_letters = Table(
        "dead_letters",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("consumer", Text, nullable=False),
        Column("topic", Text, nullable=False),
        Column("partition", Integer, nullable=False),
        Column("offset", BigInteger, nullable=False),
        Column("event_id", UUID(as_uuid=True)),
        Column("event_type", Text),
        Column("key", Text),
        Column("headers", JSONB, nullable=False),
        Column("value", LargeBinary),
        Column("error", Text, nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("failed_at", DateTime(timezone=True)),
        Column("replayed_at", DateTime(timezone=True)),
        Column("replayed_by", Text),
    )
    idempotency = Table(
        "idempotency_keys",
        metadata,
        Column("principal", Text, primary_key=True),
        Column("key", Text, primary_key=True),
        Column("request_hash", Text, nullable=False),
        Column("status", Integer),
        Column("body", LargeBinary),
        Column("created_at", DateTime(timezone=True)),
    )
    return PlumbingTables(metadata.schema or "public", events, outbox, processed, dead_letters, idempotency)


PLUMBING_DDL = """
CREATE SCHEMA IF NOT EXISTS {s};
CREATE TABLE {s}.events (
    position        bigserial PRIMARY KEY,
    event_id        uuid NOT NULL UNIQUE,
    stream_id       text NOT NULL,
    stream_type     text NOT NULL,
    version         integer NOT NULL CHECK (version >= 1),
    event_type      text NOT NULL,
    schema_version  integer NOT NULL,
    occurred_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    tx_id           xid8 NOT NULL DEFAULT pg_current_xact_id(),
    metadata        jsonb NOT NULL,
    payload         jsonb NOT NULL,
    partition_key   text,
    UNIQUE (stream_id, version)
);
CREATE INDEX events_tx_position ON {s}.events (tx_id, position);
CREATE INDEX events_type ON {s}.events (event_type, position);
CREATE FUNCTION {s}.events_are_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are immutable: append a correcting event instead';
END $$;
CREATE TRIGGER events_immutable BEFORE UPDATE OR DELETE ON {s}.events
    FOR EACH ROW EXECUTE FUNCTION {s}.events_are_immutable();
CREATE TABLE {s}.outbox (
    id              bigserial PRIMARY KEY,
    event_position  bigint NOT NULL REFERENCES {s}.events (position)
);
-- Wakes the relay and the live feeds when events commit: one NOTIFY per statement, from the
-- server, so appending costs no extra round trip.
CREATE FUNCTION {s}.notify_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{s}_events', '');
    RETURN NULL;
END $$;
CREATE TRIGGER outbox_notify AFTER INSERT ON {s}.outbox
    FOR EACH STATEMENT EXECUTE FUNCTION {s}.notify_events();
CREATE TABLE {s}.processed_events (
    consumer        text NOT NULL,
    event_id        uuid NOT NULL,
    processed_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
CREATE TABLE {s}.dead_letters (
    id              bigserial PRIMARY KEY,
    consumer        text NOT NULL,
    topic           text NOT NULL,
    partition       integer NOT NULL,
    "offset"        bigint NOT NULL,
    event_id        uuid,
    event_type      text,
    key             text,
    headers         jsonb NOT NULL,
    value           bytea,
    error           text NOT NULL,
    attempts        integer NOT NULL,
    failed_at       timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE {s}.idempotency_keys (
    principal       text NOT NULL,
    key             text NOT NULL,
    request_hash    text NOT NULL,
    status          integer,
    body            bytea,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (principal, key)
);
"""

# Added later (each service's migration): published events stay in the outbox for a retention window, so that
# what a broker forgot (the embedded one on every restart) is published again; the relay marks the offsets it
# wrote last to tell a broker that forgot them.
OUTBOX_RETENTION_DDL = """
ALTER TABLE {s}.outbox ADD COLUMN published_at timestamptz;
CREATE INDEX outbox_pending ON {s}.outbox (id) WHERE published_at IS NULL;
CREATE INDEX outbox_published ON {s}.outbox (published_at) WHERE published_at IS NOT NULL;
CREATE TABLE {s}.relay_marks (
    topic           text NOT NULL,
    partition       integer NOT NULL,
    "offset"        bigint NOT NULL,
    PRIMARY KEY (topic, partition)
);
"""

# Added later (each service's migration): dead letters an operator replayed once the cause was fixed, when and
# by whom (kept, not deleted).
DEAD_LETTER_REPLAY_DDL = """
ALTER TABLE {s}.dead_letters ADD COLUMN replayed_at timestamptz;
ALTER TABLE {s}.dead_letters ADD COLUMN replayed_by text;
"""
