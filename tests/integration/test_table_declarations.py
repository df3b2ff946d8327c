"""Every table is declared twice: by the migrations, which make it, and by the SQLAlchemy `Table` the code reads
and writes it through (each service's MetaData, the plumbing tables of `backbone/tables.py` in it). On the migrated
database, the two agree: the same tables and columns, each column of the same type family, NOT NULL where the
`Table` says so (most leave nullability to the migrations), and the same primary keys and unique keys (unique
constraints and unique indexes; a partial one counts as partial, its condition is not compared). A difference that
is meant is listed below with its reason."""

import importlib
import re

import pytest
from sqlalchemy import Table, UniqueConstraint, text
from sqlalchemy.dialects import postgresql

from contracts.generate import SERVICE_APPS

pytestmark = pytest.mark.integration

# Tables the migrations make in a schema that no `Table` declares, and why none is needed.
UNDECLARED_TABLES = {
    "alembic_version": "alembic's own record of the schema's revision",
    "relay_marks": "only the outbox relay touches it, in SQL of its own (backbone/outbox.py)",
}
# Type names of one family: an integer of any width reads and writes alike, and so do text and varchar.
FAMILIES = {"smallint": "integer", "bigint": "integer", "varchar": "text", "character varying": "text"}

COLUMNS = text("""
    SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
           a.attnotnull AS not_null
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = :schema AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
""")
# Primary keys, unique constraints and unique indexes alike: each makes its columns unique.
UNIQUE_KEYS = text("""
    SELECT c.relname AS table, i.indisprimary AS primary, i.indpred IS NOT NULL AS partial,
           ARRAY(SELECT a.attname FROM unnest(i.indkey) AS k(attnum)
                 JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum) AS columns
    FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = :schema AND i.indisunique
""")


def family(sql_type: str) -> str:
    """`numeric(18,2)` → numeric, `bigint` → integer, `text[]` → text[], `timestamp with time zone` as it is."""
    name = re.sub(r"\(.*?\)", "", sql_type.lower()).strip()
    element = name.removesuffix("[]").strip()
    return FAMILIES.get(element, element) + ("[]" if name.endswith("[]") else "")


def declared_keys(table: Table) -> set[tuple[str, frozenset[str], bool]]:
    """(primary or unique, columns, partial) of each key a `Table` declares."""
    primary = frozenset(c.name for c in table.primary_key.columns)
    keys = {("primary", primary, False)} if primary else set()
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint):
            keys.add(("unique", frozenset(c.name for c in constraint.columns), False))
    for index in table.indexes:
        if index.unique:
            partial = index.dialect_options["postgresql"]["where"] is not None
            keys.add(("unique", frozenset(c.name for c in index.columns), partial))
    return keys


@pytest.mark.parametrize("service", sorted(SERVICE_APPS))
async def test_the_tables_the_code_declares_are_the_tables_the_migrations_made(service, engine):
    metadata = importlib.import_module(SERVICE_APPS[service]).spec.metadata
    declared = {table.name: table for table in metadata.tables.values()}
    async with engine.connect() as conn:
        columns = (await conn.execute(COLUMNS, {"schema": service})).all()
        keys = (await conn.execute(UNIQUE_KEYS, {"schema": service})).all()
    made = {row.table for row in columns}
    differences = [f"{name}: made by the migrations, declared by no Table"
                   for name in sorted(made - declared.keys() - UNDECLARED_TABLES.keys())]
    differences += [f"{name}: declared, but the migrations made no such table"
                    for name in sorted(declared.keys() - made)]
    for name in sorted(made & declared.keys()):
        table = declared[name]
        in_database = {row.column: row for row in columns if row.table == name}
        differences += [f"{name}.{column}: in the database, not in the Table"
                        for column in sorted(in_database.keys() - table.columns.keys())]
        for column in table.columns:
            row = in_database.get(column.name)
            if row is None:
                differences.append(f"{name}.{column.name}: in the Table, not in the database")
                continue
            own = family(column.type.compile(dialect=postgresql.dialect()))
            if own != family(row.type):
                differences.append(f"{name}.{column.name}: {own} in the Table, {row.type} in the database")
            if not column.nullable and not row.not_null:
                differences.append(f"{name}.{column.name}: NOT NULL in the Table, nullable in the database")
        made_keys = {("primary" if row.primary else "unique", frozenset(row.columns), row.partial)
                     for row in keys if row.table == name}
        own_keys = declared_keys(table)
        differences += [f"{name}: {kind} key {sorted(cols)}{' (partial)' if partial else ''} only in the database"
                        for kind, cols, partial in sorted(made_keys - own_keys, key=str)]
        differences += [f"{name}: {kind} key {sorted(cols)}{' (partial)' if partial else ''} only in the Table"
                        for kind, cols, partial in sorted(own_keys - made_keys, key=str)]
    assert not differences, "\n".join(differences)
