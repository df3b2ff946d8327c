"""Observed payments know whether the payee is a person: window rules over persons look back at persons only.

Revision ID: alerting_0008
Revises: alerting_0007
"""

from backbone.migration_ops import execute_script

revision = "alerting_0008"
down_revision = "alerting_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        ALTER TABLE alerting.observed_payments ADD COLUMN payee_type text;
        UPDATE alerting.observed_payments SET payee_type = payload->>'payee_type';
        """
    )
