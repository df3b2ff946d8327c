"""Dead letters record their replay (when, by whom); and the registry scope index 0005 created goes: no query
uses it, and the registry import paid for it on every upsert.

Revision ID: payments_0006
Revises: payments_0005
"""

from backbone.migration_ops import add_dead_letter_replay, execute_script

revision = "payments_0006"
down_revision = "payments_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_dead_letter_replay("payments")
    execute_script("DROP INDEX IF EXISTS payments.registry_persons_scope;")
