"""DDL helpers for service migrations."""

from alembic import op
from sqlalchemy.util import await_only

from backbone.tables import DEAD_LETTER_REPLAY_DDL, OUTBOX_RETENTION_DDL, PLUMBING_DDL


def execute_script(sql: str) -> None:
    """Run several statements at once (asyncpg's simple query protocol), in the migration's transaction."""
    await_only(op.get_bind().connection.driver_connection.execute(sql))


def create_plumbing(schema: str) -> None:
    """Create the event store, outbox, tracking, dead-letter and idempotency tables of a schema."""
    execute_script(PLUMBING_DDL.format(s=schema))


def add_dead_letter_replay(schema: str) -> None:
    """Let a schema's dead letters record their replay."""
    execute_script(DEAD_LETTER_REPLAY_DDL.format(s=schema))


def add_outbox_retention(schema: str) -> None:
    """Keep a schema's published events in its outbox for republishing, and the relay's marks."""
    execute_script(OUTBOX_RETENTION_DDL.format(s=schema))
