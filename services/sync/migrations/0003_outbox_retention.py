"""Published events stay in the outbox for a retention window and are published again when the broker forgot
them; the relay marks the offsets it wrote last.

Revision ID: sync_0003
Revises: sync_0002
"""

from backbone.migration_ops import add_outbox_retention

revision = "sync_0003"
down_revision = "sync_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_outbox_retention("sync")
