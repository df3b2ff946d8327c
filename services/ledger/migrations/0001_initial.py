"""The ledger schema: plumbing, the indicator read model and spending learned from payments.

Revision ID: ledger_0001
Revises:
"""

from backbone.migration_ops import create_plumbing, execute_script

revision = "ledger_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_plumbing("ledger")
    execute_script(
        """
        CREATE TABLE ledger.indicators (
            indicator_id    text PRIMARY KEY,
            doc_no          text NOT NULL,
            fund_name       text NOT NULL,
            fund_nature     text NOT NULL,
            function_code   text NOT NULL,
            economic_code   text NOT NULL,
            budget_project  text NOT NULL,
            amount          numeric(18, 2) NOT NULL,
            fiscal_year     integer NOT NULL,
            level           text NOT NULL,
            issued_on       date,
            received_on     date,
            registered_on   date NOT NULL,
            owner_division  text NOT NULL,
            org_unit        text NOT NULL,
            poverty_tag     boolean NOT NULL,
            parent_id       text REFERENCES ledger.indicators (indicator_id),
            version         integer NOT NULL,
            registered_by   text NOT NULL,
            registered_at   timestamptz NOT NULL
        );
        CREATE INDEX indicators_parent ON ledger.indicators (parent_id);
        CREATE INDEX indicators_scope ON ledger.indicators (fiscal_year, org_unit, owner_division);
        CREATE TABLE ledger.indicator_spending (
            indicator_id    text PRIMARY KEY,
            paid            numeric(18, 2) NOT NULL DEFAULT 0,
            refunded        numeric(18, 2) NOT NULL DEFAULT 0,
            payments        integer NOT NULL DEFAULT 0
        );
        """
    )
