"""Observed payments know their payee, settlement method and purpose: window rules look back by them.

Revision ID: alerting_0006
Revises: alerting_0005
"""

from backbone.migration_ops import execute_script

revision = "alerting_0006"
down_revision = "alerting_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        ALTER TABLE alerting.observed_payments ADD COLUMN payee_key text;
        ALTER TABLE alerting.observed_payments ADD COLUMN settlement_method text;
        ALTER TABLE alerting.observed_payments ADD COLUMN purpose text;
        UPDATE alerting.observed_payments SET payee_key = coalesce(payload->>'payee_id_index', payload->>'payee_account'),
            settlement_method = payload->>'settlement_method', purpose = payload->>'purpose';
        CREATE INDEX observed_payments_payee ON alerting.observed_payments (payee_key, paid_at);
        """
    )
