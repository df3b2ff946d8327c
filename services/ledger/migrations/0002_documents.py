"""Scanned documents of indicators (指标文件扫描件): one row per document attached to an indicator.

Revision ID: ledger_0002
Revises: ledger_0001
"""

from backbone.migration_ops import execute_script

revision = "ledger_0002"
down_revision = "ledger_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE ledger.indicator_documents (
            document_id     text PRIMARY KEY,
            indicator_id    text NOT NULL REFERENCES ledger.indicators (indicator_id),
            sha256          text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
            media_type      text NOT NULL,
            size            bigint NOT NULL CHECK (size > 0),
            filename        text NOT NULL,
            attached_by     text NOT NULL,
            attached_at     timestamptz NOT NULL,
            -- The same bytes are attached to an indicator once; this also serves lookups by indicator.
            CONSTRAINT indicator_documents_once UNIQUE (indicator_id, sha256)
        );
        """
    )
