"""Balances know each indicator's parent, so that money a child gives back frees the parent.

Revision ID: alerting_0002
Revises: alerting_0001
"""

from backbone.migration_ops import execute_script

revision = "alerting_0002"
down_revision = "alerting_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script("ALTER TABLE alerting.indicator_balances ADD COLUMN parent_id text")
