"""The payments schema: plumbing and the payment read model.

Revision ID: payments_0001
Revises:
"""

from backbone.migration_ops import create_plumbing, execute_script

revision = "payments_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_plumbing("payments")
    execute_script(
        """
        CREATE TABLE payments.payments (
            payment_id        text PRIMARY KEY,
            indicator_id      text,
            payer_name        text NOT NULL,
            payer_account     text NOT NULL,
            amount            numeric(18, 2) NOT NULL,
            paid_at           timestamptz NOT NULL,
            purpose           text NOT NULL,
            settlement_method text NOT NULL,
            payment_method    text NOT NULL,
            payee_name        text NOT NULL,
            payee_account     text NOT NULL,
            payee_type        text NOT NULL,
            payee_id_masked   text,
            org_unit          text,
            content_hash      text NOT NULL,
            recorded_at       timestamptz NOT NULL,
            recorded_by       text NOT NULL
        );
        CREATE INDEX payments_indicator ON payments.payments (indicator_id, paid_at);
        CREATE INDEX payments_paid_at ON payments.payments (paid_at);
        """
    )
