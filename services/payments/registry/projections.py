"""Read model of the registries: who is on them now, and what each import found."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, DateTime, Integer, Table, Text, delete, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.db import bulk_insert, bulk_upsert
from contracts.envelope import EventEnvelope
from contracts.registry import RECORDED, RegistryImportCompleted, RegistryPersonsRemoved
from contracts.values import Registry
from services.payments.projections import metadata

registry_persons = Table(
    "registry_persons", metadata,
    Column("id_index", Text, primary_key=True), Column("registry", Text, primary_key=True),
    Column("id_masked", Text), Column("name", Text), Column("org_unit", Text), Column("household", Text),
    Column("town", Text), Column("village", Text), Column("status", Text), Column("year", Integer),
    Column("employer", Text), Column("source_kind", Text), Column("source_id", Text),
    Column("updated_at", DateTime(timezone=True)),
)

registry_imports = Table(
    "registry_imports", metadata,
    Column("import_id", Text, primary_key=True), Column("registry", Text), Column("filename", Text),
    Column("rows", Integer), Column("accepted", Integer), Column("rejected", Integer), Column("errors", JSONB),
    Column("started_at", DateTime(timezone=True)), Column("completed_at", DateTime(timezone=True)),
    Column("imported_by", Text), Column("org_unit", Text),
)

# Written with the import's completion, in its transaction: the event carries only the first faults.
registry_import_faults = Table(
    "registry_import_faults", metadata,
    Column("import_id", Text, primary_key=True), Column("seq", Integer, primary_key=True), Column("sheet", Text),
    Column("row", Integer), Column("column", Text), Column("message", Text),
)

ENTRY_COLUMNS = ("id_masked", "name", "org_unit", "household", "town", "village", "status", "year", "employer")
REGISTRY_OF = {model.event_type: registry for registry, model in RECORDED.items()}


async def project_registries(conn: AsyncConnection, envelopes: Sequence[EventEnvelope]) -> None:
    """Inline projection: registry entries as they now are, and the report of each import."""
    # The entries of a whole append go in one upsert, the later event's entry winning: one statement
    # for twenty parts is several times faster than twenty.
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for e in envelopes:
        registry = REGISTRY_OF.get(e.event_type)
        if registry is not None:
            # Read from the payload as stored: a part holds a thousand people, validated as it was written.
            source = e.payload["source"]
            for p in e.payload["persons"]:
                latest[(p["id_index"], registry.value)] = {
                    "id_index": p["id_index"], "registry": registry.value, **{c: p.get(c) for c in ENTRY_COLUMNS},
                    "source_kind": source["kind"], "source_id": source["id"], "updated_at": e.occurred_at}
            continue
        await bulk_upsert(conn, registry_persons, list(latest.values()), key=("id_index", "registry"))
        latest.clear()
        if e.event_type == RegistryPersonsRemoved.event_type:
            await conn.execute(delete(registry_persons).where(
                registry_persons.c.registry == e.payload["registry"],
                registry_persons.c.id_index.in_([p["id_index"] for p in e.payload["persons"]])))
        elif e.event_type == RegistryImportCompleted.event_type:
            done = RegistryImportCompleted.model_validate(e.payload)
            await conn.execute(registry_imports.insert().values(
                **done.model_dump(include={"import_id", "registry", "filename", "rows", "accepted", "rejected",
                                           "errors", "started_at"}),
                completed_at=e.occurred_at, imported_by=e.metadata.actor, org_unit=e.metadata.org_unit))
    await bulk_upsert(conn, registry_persons, list(latest.values()), key=("id_index", "registry"))


async def registry_entries(conn: AsyncConnection, registry: Registry | None,
                           id_indexes: Sequence[str]) -> list[dict[str, Any]]:
    """The entries of these people (on one registry or on all), each with its registry."""
    query = select(registry_persons).where(registry_persons.c.id_index.in_(list(id_indexes)))
    if registry is not None:
        query = query.where(registry_persons.c.registry == registry.value)
    return [dict(row._mapping) for row in await conn.execute(query)] if id_indexes else []




async def keep_import_faults(conn: AsyncConnection, import_id: str, faults: Sequence[dict[str, Any]]) -> None:
    """Every fault of an import, numbered in the file's order."""
    await bulk_insert(conn, registry_import_faults, [
        {"import_id": import_id, "seq": n, "sheet": f.get("sheet"), "row": f.get("row"), "column": f.get("column"),
         "message": f["message"]} for n, f in enumerate(faults, start=1)])
