"""Published events stay in the outbox for a retention window and are published again when the broker forgot
them; the relay marks the offsets it wrote last.

Revision ID: gateway_0010
Revises: gateway_0009
"""

from backbone.migration_ops import add_outbox_retention

revision = "gateway_0010"
down_revision = "gateway_0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_outbox_retention("gateway")
