"""Clocks are looked up by subject and rule for every event that may meet them, expired ones included.

Revision ID: alerting_0009
Revises: alerting_0008
"""

from backbone.migration_ops import execute_script

revision = "alerting_0009"
down_revision = "alerting_0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        DROP INDEX alerting.watches_subject;
        CREATE INDEX watches_subject ON alerting.watches (subject_id, rule_id);
        """
    )
