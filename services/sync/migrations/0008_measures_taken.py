"""The measures taken on alerts (第二十二条(三)) as the monthly report counts them: recoveries with what the ledger
withdrew and what was short, suspensions, referrals and circulars (against a district or a division: the district
statistics count those against a district), each with its district, division and time.

Revision ID: sync_0008
Revises: sync_0007
"""

from backbone.migration_ops import execute_script

revision = "sync_0008"
down_revision = "sync_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE sync.measures_taken (
            event_id        uuid PRIMARY KEY,
            kind            text NOT NULL,
            alert_id        text NOT NULL,
            org_unit        text,
            owner_division  text,
            at              timestamptz NOT NULL,
            withdrawn       numeric(18, 2),
            shortfall       numeric(18, 2),
            against         text                    -- a circular's: district or division
        );
        CREATE INDEX measures_taken_at ON sync.measures_taken (at);
        """
    )
