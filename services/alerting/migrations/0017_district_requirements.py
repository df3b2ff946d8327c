"""Districts in the yearly cycle (第十五条): a requirement a district proposes to a division, and districts'
comments on the divisions' requirements.

Revision ID: alerting_0017
Revises: alerting_0016
"""

from backbone.migration_ops import execute_script

revision = "alerting_0017"
down_revision = "alerting_0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        ALTER TABLE alerting.requirements ADD COLUMN proposer_org_unit text, ADD COLUMN to_division text;
        CREATE INDEX requirements_newest ON alerting.requirements (proposed_at DESC, requirement_id DESC);
        CREATE TABLE alerting.requirement_comments (
            comment_id      text PRIMARY KEY,
            requirement_id  text NOT NULL REFERENCES alerting.requirements (requirement_id),
            fiscal_year     integer NOT NULL,
            org_unit        text NOT NULL,
            to_division     text,
            text            text NOT NULL,
            commented_by    text NOT NULL,
            commented_at    timestamptz NOT NULL
        );
        CREATE INDEX requirement_comments_of ON alerting.requirement_comments (requirement_id, commented_at);
        """
    )
