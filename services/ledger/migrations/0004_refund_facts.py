"""Each refund the ledger learned of, with when it learned it.

Revision ID: ledger_0004
Revises: ledger_0003
"""

from backbone.migration_ops import execute_script

revision = "ledger_0004"
down_revision = "ledger_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE ledger.indicator_refunds (
            refund_id       text PRIMARY KEY,
            indicator_id    text NOT NULL,
            amount          numeric(18, 2) NOT NULL,
            recorded_at     timestamptz NOT NULL
        );
        CREATE INDEX indicator_refunds_by_indicator ON ledger.indicator_refunds (indicator_id, recorded_at);
        """
    )
