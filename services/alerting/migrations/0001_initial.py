"""The alerting schema: plumbing, balances learned from events, observed payments, alerts.

Revision ID: alerting_0001
Revises:
"""

from backbone.migration_ops import create_plumbing, execute_script

revision = "alerting_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_plumbing("alerting")
    execute_script(
        """
        CREATE TABLE alerting.indicator_balances (
            indicator_id    text PRIMARY KEY,
            amount          numeric(18, 2),
            allocated       numeric(18, 2) NOT NULL DEFAULT 0,
            paid            numeric(18, 2) NOT NULL DEFAULT 0,
            refunded        numeric(18, 2) NOT NULL DEFAULT 0,
            fiscal_year     integer,
            org_unit        text,
            owner_division  text
        );
        CREATE TABLE alerting.observed_payments (
            seq             bigserial PRIMARY KEY,
            payment_id      text NOT NULL UNIQUE,
            indicator_id    text,
            amount          numeric(18, 2) NOT NULL,
            paid_at         timestamptz NOT NULL,
            org_unit        text,
            evaluated       boolean NOT NULL DEFAULT false,
            event_id        uuid NOT NULL,
            traceparent     text
        );
        CREATE INDEX observed_payments_pending ON alerting.observed_payments (indicator_id, seq)
            WHERE NOT evaluated;
        CREATE TABLE alerting.alerts (
            alert_id        text PRIMARY KEY,
            rule_id         text NOT NULL,
            rule_number     text NOT NULL,
            rule_name       text NOT NULL,
            level           text NOT NULL,
            status          text NOT NULL,
            subject_kind    text NOT NULL,
            subject_id      text NOT NULL,
            indicator_id    text,
            period          text NOT NULL,
            org_unit        text,
            owner_division  text,
            explanation     jsonb NOT NULL,
            raised_at       timestamptz NOT NULL,
            updated_at      timestamptz NOT NULL,
            version         integer NOT NULL,
            UNIQUE (rule_id, subject_kind, subject_id, period)
        );
        CREATE INDEX alerts_filters ON alerting.alerts (level, status, org_unit, owner_division);
        """
    )
