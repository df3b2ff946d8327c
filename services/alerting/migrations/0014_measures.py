"""Measures that open a record (第二十二条(三)): 移交, the supervision bureau's inbox of referred cases, and 通报,
circulars against a district or a division; each numbered per year.

Revision ID: alerting_0014
Revises: alerting_0013
"""

from backbone.migration_ops import execute_script

revision = "alerting_0014"
down_revision = "alerting_0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE alerting.referrals (
            number                text PRIMARY KEY,
            alert_id              text NOT NULL UNIQUE,
            rule_id               text NOT NULL,
            rule_number           text NOT NULL,
            org_unit              text,
            owner_division        text,
            sheet_number          text NOT NULL,
            findings              text NOT NULL,
            referred_by           text NOT NULL,
            referred_by_division  text,
            referred_at           timestamptz NOT NULL
        );
        CREATE INDEX referrals_newest ON alerting.referrals (referred_at, number);
        CREATE TABLE alerting.circulars (
            number          text PRIMARY KEY,
            alert_id        text NOT NULL UNIQUE,
            rule_id         text NOT NULL,
            rule_number     text NOT NULL,
            against         text NOT NULL,
            org_unit        text,
            owner_division  text,
            sheet_number    text NOT NULL,
            findings        text NOT NULL,
            circulated_by   text NOT NULL,
            circulated_at   timestamptz NOT NULL
        );
        CREATE INDEX circulars_newest ON alerting.circulars (circulated_at, number);
        CREATE TABLE alerting.measure_counters (
            kind  text NOT NULL,
            year  integer NOT NULL,
            last  integer NOT NULL,
            PRIMARY KEY (kind, year)
        );
        """
    )
