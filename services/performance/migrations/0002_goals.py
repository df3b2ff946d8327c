"""Performance goals, execution reports and the indicators (and their spending) learned from the ledger.

Revision ID: performance_0002
Revises: performance_0001
"""

from backbone.migration_ops import execute_script

revision = "performance_0002"
down_revision = "performance_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE performance.indicators (
            indicator_id    text PRIMARY KEY,
            fiscal_year     integer,
            org_unit        text,
            owner_division  text,
            doc_no          text,
            fund_name       text,
            amount          numeric(18, 2),
            paid            numeric(18, 2) NOT NULL DEFAULT 0,
            refunded        numeric(18, 2) NOT NULL DEFAULT 0
        );

        CREATE TABLE performance.goals (
            goal_id         text PRIMARY KEY,
            indicator_id    text NOT NULL UNIQUE,
            fiscal_year     integer NOT NULL,
            org_unit        text NOT NULL,
            owner_division  text NOT NULL,
            goal            text NOT NULL,
            indicators      jsonb NOT NULL,
            status          text NOT NULL,          -- filed, accepted, returned
            review_reasons  text,
            rectify_by      date,
            set_at          timestamptz NOT NULL,
            updated_at      timestamptz NOT NULL
        );
        CREATE INDEX goals_scope ON performance.goals (fiscal_year, org_unit, owner_division);

        CREATE TABLE performance.reports (
            report_id       text PRIMARY KEY,
            goal_id         text NOT NULL REFERENCES performance.goals (goal_id),
            period          text NOT NULL,
            period_end      date NOT NULL,
            outcomes        jsonb NOT NULL,
            severe_count    integer NOT NULL,
            explanation     text NOT NULL,
            measures        text NOT NULL,
            time_progress   numeric(6, 4) NOT NULL,
            money_progress  numeric(8, 4),
            status          text NOT NULL,
            review_reasons  text,
            rectify_by      date,
            filed_at        timestamptz NOT NULL
        );
        CREATE INDEX reports_goal ON performance.reports (goal_id, period_end);
        """
    )
