"""The audit trail: a hash-chained, append-only log.

Revision ID: gateway_0004
Revises: gateway_0003
"""

from backbone.migration_ops import execute_script

revision = "gateway_0004"
down_revision = "gateway_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE gateway.audit_log (
            seq         bigint PRIMARY KEY,
            at          timestamptz NOT NULL,
            actor       text NOT NULL,
            org_unit    text,
            client_ip   text,
            action      text NOT NULL,
            target      text NOT NULL,
            outcome     text NOT NULL,
            trace_id    text,
            event_id    uuid UNIQUE,
            prev_hash   text NOT NULL,
            hash        text NOT NULL
        );
        CREATE INDEX audit_log_at ON gateway.audit_log (at, seq);
        CREATE INDEX audit_log_actor ON gateway.audit_log (actor, at, seq);
        CREATE FUNCTION gateway.audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP;
        END $$;
        -- Pruning entries older than the 180 days kept is a DBA's deliberate act: disable this trigger,
        -- delete, enable it again (README, Operations).
        CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON gateway.audit_log
            FOR EACH STATEMENT EXECUTE FUNCTION gateway.audit_log_is_append_only();
        """
    )
