"""Export requests co-signed by the poverty office (第二十七条).

Revision ID: gateway_0006
Revises: gateway_0005
"""

from backbone.migration_ops import execute_script

revision = "gateway_0006"
down_revision = "gateway_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE gateway.export_requests (
            export_id           text PRIMARY KEY,
            path                text NOT NULL,
            params              jsonb NOT NULL,
            purpose             text NOT NULL,
            recipient           text,
            requester           text NOT NULL,
            requester_org_unit  text,
            requested_at        timestamptz NOT NULL,
            status              text NOT NULL,
            cosigner            text,
            opinion             text,
            cosigned_at         timestamptz,
            download_until      timestamptz,
            downloaded_at       timestamptz
        );
        -- A person's own requests, and the poverty office's queue of those awaiting co-signature, newest first.
        CREATE INDEX export_requests_requester
            ON gateway.export_requests (requester, requested_at DESC, export_id DESC);
        CREATE INDEX export_requests_status ON gateway.export_requests (status, requested_at DESC, export_id DESC);
        """
    )
