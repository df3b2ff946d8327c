"""Permission applications (附件3) with their encrypted ID numbers; revoked accounts.

Revision ID: gateway_0005
Revises: gateway_0004
"""

from backbone.migration_ops import execute_script

revision = "gateway_0005"
down_revision = "gateway_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        ALTER TABLE gateway.users ADD COLUMN revoked_at timestamptz;
        CREATE TABLE gateway.permission_applications (
            application_id      text PRIMARY KEY,
            kind                text NOT NULL,
            status              text NOT NULL,
            username            text NOT NULL,
            org_unit            text NOT NULL,
            division            text,
            form                jsonb NOT NULL,
            content_digest      text NOT NULL,
            applicant           text NOT NULL,
            applicant_org_unit  text,
            return_reason       text,
            province_remarks    text,
            submitted_at        timestamptz NOT NULL,
            updated_at          timestamptz NOT NULL,
            version             integer NOT NULL
        );
        -- One open application per login name: two at once would contradict each other.
        CREATE UNIQUE INDEX permission_applications_open_username ON gateway.permission_applications (username)
            WHERE status IN ('submitted', 'returned', 'forwarded');
        CREATE INDEX permission_applications_listing
            ON gateway.permission_applications (submitted_at DESC, application_id DESC);
        CREATE INDEX permission_applications_digest ON gateway.permission_applications (applicant, content_digest);
        CREATE TABLE gateway.permission_application_id_numbers (
            application_id  text PRIMARY KEY REFERENCES gateway.permission_applications (application_id),
            id_cipher       text NOT NULL
        );
        """
    )
