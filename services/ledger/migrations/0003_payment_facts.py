"""Each payment the ledger learned of, with when it learned it: the ledger as of a past date.

Revision ID: ledger_0003
Revises: ledger_0002
"""

from backbone.migration_ops import execute_script

revision = "ledger_0003"
down_revision = "ledger_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE ledger.indicator_payments (
            payment_id      text PRIMARY KEY,
            indicator_id    text NOT NULL,
            amount          numeric(18, 2) NOT NULL,
            paid_at         timestamptz NOT NULL,
            recorded_at     timestamptz NOT NULL
        );
        CREATE INDEX indicator_payments_by_indicator ON ledger.indicator_payments (indicator_id, recorded_at);
        """
    )
