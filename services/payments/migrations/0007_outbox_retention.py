"""Published events stay in the outbox for a retention window and are published again when the broker forgot
them; the relay marks the offsets it wrote last.

Revision ID: payments_0007
Revises: payments_0006
"""

from backbone.migration_ops import add_outbox_retention

revision = "payments_0007"
down_revision = "payments_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_outbox_retention("payments")
