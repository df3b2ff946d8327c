"""A download under way claims its export, so that no database connection is held while the service builds
the file.

Revision ID: gateway_0009
Revises: gateway_0008
"""

from backbone.migration_ops import execute_script

revision = "gateway_0009"
down_revision = "gateway_0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script("ALTER TABLE gateway.export_requests ADD COLUMN download_claimed_at timestamptz;")
