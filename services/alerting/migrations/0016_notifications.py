"""People to reach (第十八条, 第二十一条): the liaison register, each notification delivered (unique by its key,
so a message is never sent twice) and the yellow bells waiting for their day's digest.

Revision ID: alerting_0016
Revises: alerting_0015
"""

from backbone.migration_ops import execute_script

revision = "alerting_0016"
down_revision = "alerting_0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE alerting.liaisons (
            unit        text PRIMARY KEY,
            unit_kind   text NOT NULL,
            leader      jsonb NOT NULL,
            contact     jsonb NOT NULL,
            set_by      text NOT NULL,
            updated_at  timestamptz NOT NULL,
            version     integer NOT NULL
        );
        CREATE TABLE alerting.deliveries (
            id               bigserial PRIMARY KEY,
            delivery_key     text NOT NULL UNIQUE,
            channel          text NOT NULL,
            recipient        text NOT NULL,
            unit             text NOT NULL,
            role             text NOT NULL,
            kind             text NOT NULL,
            subject_key      text NOT NULL,
            title            text NOT NULL,
            body             text NOT NULL,
            status           text NOT NULL,
            attempts         integer NOT NULL,
            last_error       text,
            next_attempt_at  timestamptz NOT NULL,
            created_at       timestamptz NOT NULL,
            sent_at          timestamptz
        );
        CREATE INDEX deliveries_due ON alerting.deliveries (next_attempt_at) WHERE status = 'pending';
        CREATE INDEX deliveries_subject ON alerting.deliveries (subject_key);
        CREATE TABLE alerting.digest_bells (
            alert_id     text NOT NULL,
            office       text NOT NULL,
            day          date NOT NULL,
            rule_number  text NOT NULL,
            rule_name    text NOT NULL,
            summary      text NOT NULL,
            digested_at  timestamptz,
            PRIMARY KEY (alert_id, office)
        );
        CREATE INDEX digest_bells_waiting ON alerting.digest_bells (day) WHERE digested_at IS NULL;
        """
    )
