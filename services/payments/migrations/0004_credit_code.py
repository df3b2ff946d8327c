"""Organisation payees may carry their unified social credit code.

Revision ID: payments_0004
Revises: payments_0003
"""

from backbone.migration_ops import execute_script

revision = "payments_0004"
down_revision = "payments_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script("ALTER TABLE payments.payments ADD COLUMN payee_credit_code text")
