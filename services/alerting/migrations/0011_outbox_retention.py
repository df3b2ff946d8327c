"""Published events stay in the outbox for a retention window and are published again when the broker forgot
them; the relay marks the offsets it wrote last.

Revision ID: alerting_0011
Revises: alerting_0010
"""

from backbone.migration_ops import add_outbox_retention

revision = "alerting_0011"
down_revision = "alerting_0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_outbox_retention("alerting")
