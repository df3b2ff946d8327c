"""Messages from the province (inbound, kept once per message_id with the answer given), the indicators it issued
to the city and how each stands against the ledger, and what the ledger registered under each document number.

Revision ID: sync_0006
Revises: sync_0005
"""

from backbone.migration_ops import execute_script

revision = "sync_0006"
down_revision = "sync_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE sync.inbound (
            message_id      text PRIMARY KEY,
            kind            text NOT NULL,
            schema_version  integer NOT NULL,
            key_id          text NOT NULL,
            payload         jsonb NOT NULL,
            signature       text NOT NULL,
            receipt         jsonb NOT NULL,
            received_at     timestamptz NOT NULL
        );
        CREATE INDEX inbound_listed ON sync.inbound (received_at, message_id);

        CREATE TABLE sync.issued_indicators (
            issue_id        text PRIMARY KEY,
            doc_no          text NOT NULL UNIQUE,
            fund_name       text NOT NULL,
            amount          numeric(18, 2) NOT NULL,
            issued_on       date NOT NULL,
            level           text NOT NULL,
            fiscal_year     integer NOT NULL,
            message_id      text NOT NULL,
            status          text NOT NULL,          -- unregistered, matched, mismatched
            indicator_id    text,
            registered_amount numeric(18, 2),
            updated_at      timestamptz NOT NULL
        );

        ALTER TABLE sync.indicators ADD COLUMN doc_no text;
        ALTER TABLE sync.indicators ADD COLUMN amount numeric(18, 2);
        CREATE INDEX indicators_doc_no ON sync.indicators (doc_no) WHERE parent_id IS NULL;
        """
    )
