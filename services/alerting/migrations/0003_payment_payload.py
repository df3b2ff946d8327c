"""Observed payments keep the payment as recorded: rules that wait for the indicator judge all of it.

Revision ID: alerting_0003
Revises: alerting_0002
"""

from backbone.migration_ops import execute_script

revision = "alerting_0003"
down_revision = "alerting_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script("ALTER TABLE alerting.observed_payments ADD COLUMN payload jsonb")
