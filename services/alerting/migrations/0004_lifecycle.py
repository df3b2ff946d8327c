"""The alert lifecycle: where each alert stands and since when, and the disposal sheets (处理单).

Revision ID: alerting_0004
Revises: alerting_0003
"""

from backbone.migration_ops import execute_script

revision = "alerting_0004"
down_revision = "alerting_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        ALTER TABLE alerting.alerts ADD COLUMN step_since timestamptz;
        ALTER TABLE alerting.alerts ADD COLUMN occurrences integer NOT NULL DEFAULT 1;
        ALTER TABLE alerting.alerts ADD COLUMN escalate_to text;
        UPDATE alerting.alerts SET step_since = raised_at;
        CREATE INDEX alerts_open_by_level ON alerting.alerts (level) WHERE status = 'open';

        CREATE TABLE alerting.dispositions (
            number          text PRIMARY KEY,
            alert_id        text NOT NULL REFERENCES alerting.alerts (alert_id),
            action          text NOT NULL,
            from_level      text NOT NULL,
            to_level        text NOT NULL,
            to_status       text NOT NULL,
            sheet           jsonb NOT NULL,
            handled_at      timestamptz NOT NULL,
            org_unit        text,
            owner_division  text,
            rule_number     text
        );
        CREATE INDEX dispositions_alert ON alerting.dispositions (alert_id);
        CREATE INDEX dispositions_handled ON alerting.dispositions (handled_at);

        -- 处理单 are numbered per year without gaps: the counter row is taken in the sheet's transaction.
        CREATE TABLE alerting.sheet_counters (
            year            integer PRIMARY KEY,
            last            integer NOT NULL
        );
        """
    )
