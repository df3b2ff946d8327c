"""Dead letters record their replay (when, by whom).

Revision ID: gateway_0008
Revises: gateway_0007
"""

from backbone.migration_ops import add_dead_letter_replay

revision = "gateway_0008"
down_revision = "gateway_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_dead_letter_replay("gateway")
