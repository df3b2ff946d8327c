"""The read model sync rolls districts up from (indicators, money movements, alert and filing steps, learned from
the other contexts' events), the daily rollups, the messages to the province and the poverty office's standing
authorizations.

Revision ID: sync_0004
Revises: sync_0003
"""

from backbone.migration_ops import execute_script

revision = "sync_0004"
down_revision = "sync_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE sync.indicators (
            indicator_id    text PRIMARY KEY,
            fiscal_year     integer NOT NULL,
            org_unit        text NOT NULL,
            fund_name       text NOT NULL,
            parent_id       text
        );

        -- Money by the day it counts on (Beijing): a day's rollup sums what counted up to its end.
        CREATE TABLE sync.movements (
            event_id        uuid NOT NULL,
            indicator_id    text NOT NULL,
            kind            text NOT NULL,          -- received, allocated, paid, refunded
            amount          numeric(18, 2) NOT NULL,
            on_date         date NOT NULL,
            PRIMARY KEY (event_id, indicator_id, kind)
        );
        CREATE INDEX movements_indicator ON sync.movements (indicator_id, on_date);

        CREATE TABLE sync.alert_steps (
            event_id        uuid PRIMARY KEY,
            alert_id        text NOT NULL,
            org_unit        text,
            level           text NOT NULL,
            status          text NOT NULL,
            at              timestamptz NOT NULL
        );
        CREATE INDEX alert_steps_alert ON sync.alert_steps (alert_id, at);

        CREATE TABLE sync.filing_steps (
            event_id        uuid PRIMARY KEY,
            filing_id       text NOT NULL,
            filing          text NOT NULL,          -- goals, report, evaluation
            org_unit        text NOT NULL,
            fiscal_year     integer NOT NULL,
            status          text NOT NULL,          -- filed, accepted, returned
            at              timestamptz NOT NULL
        );
        CREATE INDEX filing_steps_filing ON sync.filing_steps (filing_id, at);

        CREATE TABLE sync.rollups (
            rollup_date     date NOT NULL,
            org_unit        text NOT NULL,
            version         integer NOT NULL,
            figures         jsonb NOT NULL,
            reason          text NOT NULL,
            computed_at     timestamptz NOT NULL,
            message_id      text NOT NULL,
            latest          boolean NOT NULL,
            PRIMARY KEY (rollup_date, org_unit, version)
        );
        CREATE INDEX rollups_listed ON sync.rollups (computed_at, org_unit);

        CREATE TABLE sync.messages (
            message_id      text PRIMARY KEY,
            kind            text NOT NULL,
            schema_version  integer NOT NULL,
            subject         text NOT NULL,
            payload         jsonb NOT NULL,
            signature       text NOT NULL,
            key_id          text NOT NULL,
            status          text NOT NULL,
            attempts        integer NOT NULL DEFAULT 0,
            next_attempt_at timestamptz NOT NULL,
            last_error      text,
            receipt         jsonb,
            created_at      timestamptz NOT NULL,
            updated_at      timestamptz NOT NULL
        );
        CREATE INDEX messages_due ON sync.messages (next_attempt_at) WHERE status IN ('pending', 'sent');
        CREATE INDEX messages_listed ON sync.messages (created_at, message_id);

        CREATE TABLE sync.authorizations (
            authorization_id text PRIMARY KEY,
            kind            text NOT NULL,
            status          text NOT NULL,          -- active, revoked
            granted_by      text NOT NULL,
            granted_at      timestamptz NOT NULL,
            note            text,
            revoked_by      text,
            revoked_at      timestamptz,
            reason          text
        );
        -- One standing authorization per kind at a time.
        CREATE UNIQUE INDEX authorizations_active ON sync.authorizations (kind) WHERE status = 'active';
        """
    )
