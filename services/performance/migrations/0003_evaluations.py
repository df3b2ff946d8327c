"""Year-end self-evaluations (绩效自评) and their review.

Revision ID: performance_0003
Revises: performance_0002
"""

from backbone.migration_ops import execute_script

revision = "performance_0003"
down_revision = "performance_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE performance.evaluations (
            goal_id         text PRIMARY KEY REFERENCES performance.goals (goal_id),
            scores          jsonb NOT NULL,
            total           numeric(6, 2) NOT NULL,
            grade           text NOT NULL,
            conclusion      text NOT NULL,
            status          text NOT NULL,
            review_reasons  text,
            rectify_by      date,
            filed_at        timestamptz NOT NULL
        );
        """
    )
