"""Published events stay in the outbox for a retention window and are published again when the broker forgot
them; the relay marks the offsets it wrote last.

Revision ID: ledger_0006
Revises: ledger_0005
"""

from backbone.migration_ops import add_outbox_retention

revision = "ledger_0006"
down_revision = "ledger_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_outbox_retention("ledger")
