"""The supervision bureau's outcome of a referred case (移交), and each alert's recovery (收回资金) with what the
ledger withdrew of it. Recoveries ordered before this revision count as withdrawn in full: the ledger of that time
answered nothing, and a shortfall could only be read in its log.

Revision ID: alerting_0018
Revises: alerting_0017
"""

from backbone.migration_ops import execute_script

revision = "alerting_0018"
down_revision = "alerting_0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        ALTER TABLE alerting.referrals
            ADD COLUMN decision text,
            ADD COLUMN outcome_findings text,
            ADD COLUMN concluded_by text,
            ADD COLUMN concluded_at timestamptz;
        CREATE TABLE alerting.recoveries (
            alert_id        text PRIMARY KEY,
            indicator_id    text NOT NULL,
            rule_number     text NOT NULL,
            org_unit        text,
            owner_division  text,
            ordered         numeric(18, 2) NOT NULL,
            withdrawn       numeric(18, 2) NOT NULL,
            orders          integer NOT NULL,
            answers         integer NOT NULL,
            sheet_number    text NOT NULL,
            ordered_by      text NOT NULL,
            ordered_at      timestamptz NOT NULL,
            answered_at     timestamptz
        );
        INSERT INTO alerting.recoveries
            SELECT payload->>'alert_id', payload->>'indicator_id', payload->>'rule_number', payload->>'org_unit',
                   payload->>'owner_division', (payload->>'amount')::numeric, (payload->>'amount')::numeric, 1, 1,
                   payload->>'sheet_number', payload->>'ordered_by', (payload->>'at')::timestamptz,
                   (payload->>'at')::timestamptz
            FROM alerting.events WHERE event_type = 'alerting.FundsRecoveryOrdered'
            ON CONFLICT (alert_id) DO NOTHING;
        """
    )
