"""Running clocks of deadline rules: persisted, so that a restart neither loses nor repeats a bell.

Revision ID: alerting_0005
Revises: alerting_0004
"""

from backbone.migration_ops import execute_script

revision = "alerting_0005"
down_revision = "alerting_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE alerting.watches (
            watch_id        text PRIMARY KEY,
            rule_id         text NOT NULL,
            subject_id      text NOT NULL,
            state           text NOT NULL,          -- waiting, ringing, met, expired
            counts_from     date NOT NULL,
            bell_at         timestamptz,
            due_at          timestamptz NOT NULL,
            period          text NOT NULL,
            org_unit        text,
            owner_division  text,
            facts           jsonb NOT NULL,
            alert_id        text,
            started_at      timestamptz NOT NULL,
            settled_at      timestamptz
        );
        CREATE INDEX watches_subject ON alerting.watches (subject_id) WHERE state IN ('waiting', 'ringing');
        CREATE INDEX watches_next ON alerting.watches (LEAST(bell_at, due_at)) WHERE state IN ('waiting', 'ringing');
        """
    )
