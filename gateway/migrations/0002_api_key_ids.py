"""API keys get a public id and can be revoked.

Revision ID: gateway_0002
Revises: gateway_0001
"""

from backbone.migration_ops import execute_script

revision = "gateway_0002"
down_revision = "gateway_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        ALTER TABLE gateway.api_keys ADD COLUMN key_id text;
        UPDATE gateway.api_keys SET key_id = left(key_hash, 12);
        ALTER TABLE gateway.api_keys ALTER COLUMN key_id SET NOT NULL;
        CREATE UNIQUE INDEX api_keys_key_id ON gateway.api_keys (key_id);
        ALTER TABLE gateway.api_keys ADD COLUMN revoked_at timestamptz;
        -- The key from FUNDWATCH_TREASURY_API_KEY; only it is replaced when that setting changes.
        ALTER TABLE gateway.api_keys ADD COLUMN bootstrap boolean NOT NULL DEFAULT false;
        UPDATE gateway.api_keys SET bootstrap = true WHERE subject = 'treasury-system';
        """
    )
