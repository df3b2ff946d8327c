"""Dead letters record their replay (when, by whom).

Revision ID: sync_0002
Revises: sync_0001
"""

from backbone.migration_ops import add_dead_letter_replay

revision = "sync_0002"
down_revision = "sync_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_dead_letter_replay("sync")
