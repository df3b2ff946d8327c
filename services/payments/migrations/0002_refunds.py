"""Refunds (退回) and reversals (冲正) of payments, and what each payment has returned.

Revision ID: payments_0002
Revises: payments_0001
"""

from backbone.migration_ops import execute_script

revision = "payments_0002"
down_revision = "payments_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        ALTER TABLE payments.payments ADD COLUMN refunded numeric(18, 2) NOT NULL DEFAULT 0;
        CREATE TABLE payments.refunds (
            refund_id       text PRIMARY KEY,
            payment_id      text NOT NULL REFERENCES payments.payments (payment_id),
            kind            text NOT NULL,
            amount          numeric(18, 2) NOT NULL,
            refunded_at     timestamptz NOT NULL,
            reason          text NOT NULL,
            content_hash    text NOT NULL,
            recorded_at     timestamptz NOT NULL,
            recorded_by     text NOT NULL
        );
        CREATE INDEX refunds_payment ON payments.refunds (payment_id);
        """
    )
