"""ID numbers encrypted at rest, found by blind index; payments know their payee's blind index.

Revision ID: payments_0003
Revises: payments_0002
"""

from backbone.migration_ops import execute_script

revision = "payments_0003"
down_revision = "payments_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE payments.personal_data (
            blind_index     text PRIMARY KEY,
            cipher          text NOT NULL,
            first_seen      timestamptz NOT NULL DEFAULT now()
        );
        ALTER TABLE payments.payments ADD COLUMN payee_id_index text;
        CREATE INDEX payments_payee_index ON payments.payments (payee_id_index) WHERE payee_id_index IS NOT NULL;
        """
    )
