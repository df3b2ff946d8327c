"""The library of regulations and notices (第十七条): a row per document with its tags, a row per office that
read a document copied to it (抄送 已阅).

Revision ID: ledger_0008
Revises: ledger_0007
"""

from backbone.migration_ops import execute_script

revision = "ledger_0008"
down_revision = "ledger_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE ledger.library_documents (
            document_id       text PRIMARY KEY,
            title             text NOT NULL,
            kind              text NOT NULL,
            doc_no            text,
            issued_on         date,
            issuing_division  text,
            fund_codes        text[] NOT NULL DEFAULT '{}',
            rules             text[] NOT NULL DEFAULT '{}',
            copied_to         text[] NOT NULL,
            sha256            text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
            media_type        text NOT NULL,
            size              bigint NOT NULL CHECK (size > 0),
            filename          text NOT NULL,
            filed_by          text NOT NULL,
            filed_at          timestamptz NOT NULL
        );
        CREATE INDEX library_documents_newest ON ledger.library_documents (filed_at DESC, document_id DESC);
        -- Lists by the fund or the rule a document is tagged with.
        CREATE INDEX library_documents_fund_codes ON ledger.library_documents USING gin (fund_codes);
        CREATE INDEX library_documents_rules ON ledger.library_documents USING gin (rules);
        CREATE TABLE ledger.library_reads (
            document_id  text NOT NULL REFERENCES ledger.library_documents (document_id),
            office       text NOT NULL,
            read_by      text NOT NULL,
            read_at      timestamptz NOT NULL,
            PRIMARY KEY (document_id, office)
        );
        """
    )
