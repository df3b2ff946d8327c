"""The gateway schema: plumbing, people, credentials and machine keys.

Revision ID: gateway_0001
Revises:
"""

from backbone.migration_ops import create_plumbing, execute_script

revision = "gateway_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_plumbing("gateway")
    execute_script(
        """
        CREATE TABLE gateway.users (
            username        text PRIMARY KEY,
            display_name    text NOT NULL,
            org_unit        text NOT NULL,
            division        text,
            roles           text[] NOT NULL,
            pii             boolean NOT NULL DEFAULT false,
            created_at      timestamptz NOT NULL
        );
        CREATE TABLE gateway.credentials (
            username        text PRIMARY KEY REFERENCES gateway.users (username),
            password_hash   text NOT NULL,
            changed_at      timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE gateway.api_keys (
            key_hash        text PRIMARY KEY,
            subject         text NOT NULL,
            roles           text[] NOT NULL,
            org_unit        text,
            created_at      timestamptz NOT NULL DEFAULT now(),
            expires_at      timestamptz
        );
        """
    )
