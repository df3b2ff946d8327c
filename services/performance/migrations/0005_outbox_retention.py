"""Published events stay in the outbox for a retention window and are published again when the broker forgot
them; the relay marks the offsets it wrote last.

Revision ID: performance_0005
Revises: performance_0004
"""

from backbone.migration_ops import add_outbox_retention

revision = "performance_0005"
down_revision = "performance_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_outbox_retention("performance")
