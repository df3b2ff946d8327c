"""Sessions that can end (sign-out, password change, idle time), account lockout, forced password
change, and per-key rate limits.

Revision ID: gateway_0003
Revises: gateway_0002
"""

from backbone.migration_ops import execute_script

revision = "gateway_0003"
down_revision = "gateway_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        ALTER TABLE gateway.credentials ADD COLUMN must_change boolean NOT NULL DEFAULT false;
        ALTER TABLE gateway.credentials ADD COLUMN failed_count integer NOT NULL DEFAULT 0;
        ALTER TABLE gateway.credentials ADD COLUMN locked_until timestamptz;
        CREATE TABLE gateway.sessions (
            session_id      text PRIMARY KEY,
            username        text NOT NULL REFERENCES gateway.users (username),
            issued_at       timestamptz NOT NULL,
            last_seen_at    timestamptz NOT NULL,
            expires_at      timestamptz NOT NULL,
            must_change     boolean NOT NULL,
            ended_at        timestamptz,
            ended_because   text
        );
        CREATE INDEX sessions_open_by_user ON gateway.sessions (username) WHERE ended_at IS NULL;
        ALTER TABLE gateway.api_keys ADD COLUMN rate_limit text;
        """
    )
