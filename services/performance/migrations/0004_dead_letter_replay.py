"""Dead letters record their replay (when, by whom).

Revision ID: performance_0004
Revises: performance_0003
"""

from backbone.migration_ops import add_dead_letter_replay

revision = "performance_0004"
down_revision = "performance_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_dead_letter_replay("performance")
