"""The sync schema: event store, outbox and consumer plumbing.

Revision ID: sync_0001
Revises:
"""

from backbone.migration_ops import create_plumbing

revision = "sync_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_plumbing("sync")
