"""Dead letters record their replay (when, by whom).

Revision ID: payments_0006
Revises: payments_0005
"""

from backbone.migration_ops import add_dead_letter_replay

revision = "payments_0006"
down_revision = "payments_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_dead_letter_replay("payments")
