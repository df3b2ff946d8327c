"""Warning levels of rules set by the Ministry and the province (第二十条), each change kept.

Revision ID: alerting_0012
Revises: alerting_0011
"""

from backbone.migration_ops import execute_script

revision = "alerting_0012"
down_revision = "alerting_0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE alerting.rule_levels (
            event_id        uuid PRIMARY KEY,
            rule_id         text NOT NULL,
            number          text NOT NULL,
            fiscal_year     integer NOT NULL,
            level_before    text NOT NULL,
            level           text NOT NULL,
            authority       text NOT NULL,
            document        text,
            message_id      text NOT NULL,
            changed_at      timestamptz NOT NULL
        );
        CREATE INDEX rule_levels_rule ON alerting.rule_levels (rule_id, fiscal_year, changed_at);
        """
    )
