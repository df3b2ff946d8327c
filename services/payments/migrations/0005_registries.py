"""The registries (建档立卡, 财政供养人员) and their imports; payments know their payee's registry facts.

Revision ID: payments_0005
Revises: payments_0004
"""

from backbone.migration_ops import execute_script

revision = "payments_0005"
down_revision = "payments_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE payments.registry_persons (
            id_index        text NOT NULL,
            registry        text NOT NULL,
            id_masked       text NOT NULL,
            name            text NOT NULL,
            org_unit        text,
            household       text,
            town            text,
            village         text,
            status          text,
            year            integer,
            employer        text,
            source_kind     text NOT NULL,
            source_id       text NOT NULL,
            updated_at      timestamptz NOT NULL,
            PRIMARY KEY (id_index, registry)
        );
        CREATE INDEX registry_persons_scope ON payments.registry_persons (registry, org_unit, status);

        CREATE TABLE payments.registry_imports (
            import_id       text PRIMARY KEY,
            registry        text NOT NULL,
            filename        text NOT NULL,
            rows            integer NOT NULL,
            accepted        integer NOT NULL,
            rejected        integer NOT NULL,
            errors          jsonb NOT NULL,
            started_at      timestamptz NOT NULL,
            completed_at    timestamptz NOT NULL,
            imported_by     text NOT NULL,
            org_unit        text
        );

        ALTER TABLE payments.payments ADD COLUMN payee_registry jsonb;
        """
    )
