"""District statistics (第七条(二), 第二十三条): the days an indicator was issued, received and registered (how long
an allocation took), the indicator and period end of a performance filing (whether it came in time). The circulars
(通报) it counts are in sync_0008's measures.

Revision ID: sync_0007
Revises: sync_0006
"""

from backbone.migration_ops import execute_script

revision = "sync_0007"
down_revision = "sync_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        ALTER TABLE sync.indicators ADD COLUMN issued_on date;
        ALTER TABLE sync.indicators ADD COLUMN received_on date;
        ALTER TABLE sync.indicators ADD COLUMN registered_on date;
        CREATE INDEX indicators_parent ON sync.indicators (parent_id) WHERE parent_id IS NOT NULL;

        CREATE INDEX alert_steps_at ON sync.alert_steps (at);

        ALTER TABLE sync.filing_steps ADD COLUMN indicator_id text;
        ALTER TABLE sync.filing_steps ADD COLUMN period_end date;
        """
    )
