"""Dead letters record their replay (when, by whom).

Revision ID: ledger_0005
Revises: ledger_0004
"""

from backbone.migration_ops import add_dead_letter_replay

revision = "ledger_0005"
down_revision = "ledger_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_dead_letter_replay("ledger")
