"""Rule management: proposals (附件2) and business requirements (附件1) per fiscal year; indicators kept whole
for backtests.

Revision ID: alerting_0007
Revises: alerting_0006
"""

from backbone.migration_ops import execute_script

revision = "alerting_0007"
down_revision = "alerting_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE alerting.rule_proposals (
            proposal_id     text PRIMARY KEY,
            fiscal_year     integer NOT NULL,
            rule_id         text NOT NULL,
            number          text NOT NULL,
            name            text NOT NULL,
            status          text NOT NULL,          -- proposed, accepted, rejected, approved
            definition      jsonb NOT NULL,
            proposed_by     text NOT NULL,
            proposer_division text,
            contact         text,
            proposed_at     timestamptz NOT NULL,
            reviewed_by     text,
            review_reason   text,
            decided_at      timestamptz
        );
        CREATE INDEX rule_proposals_year ON alerting.rule_proposals (fiscal_year, status);

        CREATE TABLE alerting.requirements (
            requirement_id  text PRIMARY KEY,
            fiscal_year     integer NOT NULL,
            kind            text NOT NULL,
            description     text NOT NULL,
            basis           text NOT NULL,
            scope           text[] NOT NULL,
            proposed_by     text NOT NULL,
            proposer_division text,
            contact         text,
            proposed_at     timestamptz NOT NULL
        );

        ALTER TABLE alerting.indicator_balances ADD COLUMN registered jsonb;
        """
    )
