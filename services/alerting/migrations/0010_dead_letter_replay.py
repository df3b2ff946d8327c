"""Dead letters record their replay (when, by whom).

Revision ID: alerting_0010
Revises: alerting_0009
"""

from backbone.migration_ops import add_dead_letter_replay

revision = "alerting_0010"
down_revision = "alerting_0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_dead_letter_replay("alerting")
