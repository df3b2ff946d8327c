"""暂缓拨付 (第二十二条(三)): an indicator's suspension by a red light's measure, lifted by its division with the
supervision bureau's consent; the mark on the balance that ZC-010 judges later payments by.

Revision ID: alerting_0015
Revises: alerting_0014
"""

from backbone.migration_ops import execute_script

revision = "alerting_0015"
down_revision = "alerting_0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        ALTER TABLE alerting.indicator_balances ADD COLUMN suspended boolean NOT NULL DEFAULT false;
        CREATE TABLE alerting.suspensions (
            indicator_id       text PRIMARY KEY,
            state              text NOT NULL,
            alert_id           text NOT NULL,
            sheet_number       text NOT NULL,
            org_unit           text,
            owner_division     text,
            suspended_by       text NOT NULL,
            suspended_at       timestamptz NOT NULL,
            lift_reason        text,
            lift_requested_by  text,
            decided_by         text,
            decided_at         timestamptz,
            version            integer NOT NULL
        );
        """
    )
