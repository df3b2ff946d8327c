"""Every fault of a registry import in a table of its own, paged by the API: an event carries only the first few,
so that a file of wrong rows cannot make an event too large to publish.

Revision ID: payments_0008
Revises: payments_0007
"""

from backbone.migration_ops import execute_script

revision = "payments_0008"
down_revision = "payments_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script("""
        CREATE TABLE payments.registry_import_faults (
            import_id   text NOT NULL,
            seq         integer NOT NULL,
            sheet       text,
            "row"       integer,
            "column"    text,
            message     text NOT NULL,
            PRIMARY KEY (import_id, seq)
        );
    """)
