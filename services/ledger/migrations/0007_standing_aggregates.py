"""What the master ledger reads without scanning: each indicator keeps what its children were given, and each
indicator's spending as it stood at the end of every Beijing day it changed (the past ledger's snapshots), both
filled from the rows already there; indexes for the default order of keyset pages and for the facts of one day.

Revision ID: ledger_0007
Revises: ledger_0006
"""

from backbone.migration_ops import execute_script

revision = "ledger_0007"
down_revision = "ledger_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        ALTER TABLE ledger.indicators ADD COLUMN allocated numeric(18, 2) NOT NULL DEFAULT 0;
        UPDATE ledger.indicators p SET allocated = c.allocated
        FROM (SELECT parent_id, sum(amount) AS allocated FROM ledger.indicators
              WHERE parent_id IS NOT NULL GROUP BY parent_id) c
        WHERE p.indicator_id = c.parent_id;

        CREATE TABLE ledger.indicator_spending_days (
            indicator_id    text NOT NULL,
            day             date NOT NULL,
            paid            numeric(18, 2) NOT NULL,
            refunded        numeric(18, 2) NOT NULL,
            PRIMARY KEY (indicator_id, day)
        );
        INSERT INTO ledger.indicator_spending_days (indicator_id, day, paid, refunded)
        SELECT indicator_id, day, sum(paid) OVER running, sum(refunded) OVER running
        FROM (SELECT indicator_id, day, sum(paid) AS paid, sum(refunded) AS refunded
              FROM (SELECT indicator_id, (recorded_at AT TIME ZONE 'Asia/Shanghai')::date AS day, amount AS paid,
                           0 AS refunded
                    FROM ledger.indicator_payments
                    UNION ALL
                    SELECT indicator_id, (recorded_at AT TIME ZONE 'Asia/Shanghai')::date, 0, amount
                    FROM ledger.indicator_refunds) facts
              GROUP BY indicator_id, day) days
        WINDOW running AS (PARTITION BY indicator_id ORDER BY day);

        -- Keyset pages in the default order (newest registered first), within a year or across years.
        CREATE INDEX indicators_year_registered ON ledger.indicators (fiscal_year, registered_at, indicator_id);
        CREATE INDEX indicators_registered ON ledger.indicators (registered_at, indicator_id);
        -- The tail of a past ledger: the facts recorded on the asked day before the asked instant.
        CREATE INDEX indicator_payments_recorded ON ledger.indicator_payments (recorded_at);
        CREATE INDEX indicator_refunds_recorded ON ledger.indicator_refunds (recorded_at);
        """
    )
