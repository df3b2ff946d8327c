"""A second sign-in factor (TOTP) for people, required of administrators.

Revision ID: gateway_0007
Revises: gateway_0006
"""

from backbone.migration_ops import execute_script

revision = "gateway_0007"
down_revision = "gateway_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        -- The TOTP secret, encrypted like ID numbers; the pending one until its first code confirms it.
        ALTER TABLE gateway.credentials ADD COLUMN totp_cipher text;
        ALTER TABLE gateway.credentials ADD COLUMN totp_pending_cipher text;
        -- The time step of the last code accepted: a code works once.
        ALTER TABLE gateway.credentials ADD COLUMN totp_last_step bigint;
        ALTER TABLE gateway.sessions ADD COLUMN needs_second_factor boolean NOT NULL DEFAULT false;
        """
    )
