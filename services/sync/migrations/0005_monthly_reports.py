"""The monthly reports (月报, 第二十四条) and their steps, and what the read model needs to make them: the division
that owns each indicator (主管处室), the rule, division and disposal sheet of each alert step, the division and
severe deviations of each performance filing. Rows learned before this revision keep these empty.

Revision ID: sync_0005
Revises: sync_0004
"""

from backbone.migration_ops import execute_script

revision = "sync_0005"
down_revision = "sync_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        ALTER TABLE sync.indicators ADD COLUMN owner_division text;

        ALTER TABLE sync.alert_steps
            ADD COLUMN owner_division   text,
            ADD COLUMN rule_number      text,
            ADD COLUMN action           text,           -- null for the raising
            ADD COLUMN result           text,           -- 认定结果 of the step's disposal sheet
            ADD COLUMN method           text,           -- 核实方式
            ADD COLUMN returned_amount  numeric(18, 2), -- 退回金额
            ADD COLUMN measures         jsonb;          -- 处理措施

        ALTER TABLE sync.filing_steps
            ADD COLUMN owner_division   text,
            ADD COLUMN severe_count     integer;

        CREATE TABLE sync.monthly_reports (
            report_id           text PRIMARY KEY,
            kind                text NOT NULL,      -- division, city
            month               text NOT NULL,      -- 2026-11
            division            text NOT NULL,      -- the preparing division: treasury for the city's
            version             integer NOT NULL,
            corrects            text,
            status              text NOT NULL,
            figures             jsonb NOT NULL,
            divisions           jsonb NOT NULL,
            analysis            text,
            prepared_by         text NOT NULL,
            created_at          timestamptz NOT NULL,
            updated_at          timestamptz NOT NULL,
            supervision_opinion text,
            supervised_by       text,
            cosigner            text,
            cosigned_at         timestamptz,
            cosignature_opinion text,
            message_id          text,
            province_reason     text,
            consolidated_into   text
        );
        -- One report per kind, month and division in each version; a correction is the next version.
        CREATE UNIQUE INDEX monthly_reports_version
            ON sync.monthly_reports (kind, month, division, version);
        -- One correction of a report.
        CREATE UNIQUE INDEX monthly_reports_corrects ON sync.monthly_reports (corrects) WHERE corrects IS NOT NULL;
        CREATE INDEX monthly_reports_listed ON sync.monthly_reports (created_at, report_id);
        CREATE INDEX monthly_reports_message ON sync.monthly_reports (message_id) WHERE message_id IS NOT NULL;

        CREATE TABLE sync.monthly_report_steps (
            report_id       text NOT NULL,
            seq             integer NOT NULL,       -- the event's version in the report's stream
            step            text NOT NULL,
            from_status     text,
            to_status       text NOT NULL,
            actor           text NOT NULL,
            at              timestamptz NOT NULL,
            opinion         text,
            PRIMARY KEY (report_id, seq)
        );
        """
    )
