"""The registries' API: bulk imports, incremental updates from the province, and a person's entries."""

import hashlib
from datetime import date, datetime
from typing import Annotated, Any
from uuid import uuid4

from fastapi import APIRouter, Body, File, UploadFile
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from backbone.clock import clock
from backbone.errors import ConcurrencyConflict, Forbidden, InvalidInput, NotFound, PayloadTooLarge, fault
from backbone.eventstore import NewStream
from backbone.files import plain_filename
from backbone.identity import CurrentPrincipal, Principal
from backbone.pages import Page, PagingDep
from backbone.paging import cursor_integer, decode_cursor, encode_cursor
from backbone.pii import PersonalData, check_id_number, mask_id_number
from backbone.service import Runtime, RuntimeDep
from contracts.envelope import DomainEvent
from contracts.registry import (FAULTS_IN_EVENT, PART_SIZE, RECORDED, PersonalDataRevealed, PersonRef, PoorPerson, PublicEmployee, RegistryImportCompleted,
                                RegistryPersonsRemoved, RegistrySource, RemovedPerson)
from contracts.values import Registry
from services.payments.domain import keyed_digest
from services.payments.projections import keep_personal_data
from services.payments.registry.domain import REQUIRED, RowChecker, check_update, entry_values
from services.payments.registry.worker import RegistryReading
from services.payments.registry.projections import (keep_import_faults, registry_entries, registry_import_faults,
                                                     registry_imports)

router = APIRouter(prefix="/api/v1", tags=["registries"])

# 局脱贫办 keeps the 建档立卡 data, 信息中心 loads files for others, the province sends them.
PARTS_PER_TRANSACTION = 20
ENTRY: dict[Registry, type[PoorPerson] | type[PublicEmployee]] = {
    Registry.POOR_POPULATION: PoorPerson, Registry.PUBLIC_EMPLOYEES: PublicEmployee}


class ImportReport(BaseModel):
    """What an import did: rows read, accepted, and the fault of each refused row."""

    import_id: str
    registry: Registry
    filename: str
    duplicate: bool = Field(description="This file was imported before: nothing new was recorded now.")
    rows: int
    accepted: int
    rejected: int
    errors: list[dict[str, Any]] = Field(description=f"row, column, message (and sheet) of the first {FAULTS_IN_EVENT} "
                                                     "faults; all of them at GET /registry/imports/{id}/faults.")
    started_at: datetime
    completed_at: datetime
    imported_by: str


def _import_route(path: str, registry: Registry, summary: str) -> None:
    @router.post(path, response_model=ImportReport, summary=summary,
                 name=f"import_{registry.value}")
    async def import_file(file: Annotated[UploadFile, File(description="CSV or XLSX with Chinese headers")],
                          principal: CurrentPrincipal, runtime: RuntimeDep) -> ImportReport:
        """Record every valid row of the file; each refused row is reported and the others still count.

        The same file again records nothing new; a file whose import was cut short resumes where it stopped.
        """
        return await _import(registry, file, principal, runtime)


_import_route("/registry/poor-population/import", Registry.POOR_POPULATION, "Import 建档立卡贫困人口")
_import_route("/registry/public-employees/import", Registry.PUBLIC_EMPLOYEES, "Import 财政供养人员")


async def _import(registry: Registry, file: UploadFile, principal: Principal, runtime: Runtime) -> ImportReport:
    limit = runtime.settings.max_import_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"the file is larger than {limit} bytes",
                             errors=[fault("file", f"at most {limit} bytes")])
    import_id = f"{registry.value}-{hashlib.sha256(data).hexdigest()[:32]}"
    stream_id = f"registry-import-{import_id}"
    async with runtime.engine.connect() as conn:
        done = (await conn.execute(select(registry_imports).where(registry_imports.c.import_id == import_id))).first()
        written = await runtime.store.version(conn, stream_id)
    if done is not None:
        return _report(dict(done._mapping), duplicate=True)
    started = clock().now()
    personal = PersonalData.from_settings(runtime.settings)
    today = clock().today()
    filename = plain_filename(file.filename)
    reading = RegistryReading(data, filename, registry, import_id, personal, today,
                              PARTS_PER_TRANSACTION, memory_bytes=runtime.settings.parse_memory_mb * 2**20)
    meta = runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit)
    version = 0
    async for parts in reading.groups():
        # Parts stored by an earlier, interrupted import of the same file are not written again.
        fresh = [(event, vault) for event, vault in parts if event.payload["source"]["part"] > written]
        if fresh:
            async with runtime.engine.begin() as conn:
                await keep_personal_data(conn, [row for _, vault in fresh for row in vault])
                await runtime.store.append(conn, stream_id=stream_id, stream_type="registry-import",
                                           expected_version=max(version, written), events=[e for e, _ in fresh],
                                           meta=meta)
        version = parts[-1][0].payload["source"]["part"]
    tally = reading.outcome
    completed = RegistryImportCompleted(
        registry=registry, import_id=import_id, filename=filename, rows=tally.rows, accepted=tally.accepted,
        rejected=tally.rejected, errors=tally.errors[:FAULTS_IN_EVENT], started_at=started)
    async with runtime.engine.begin() as conn:
        await keep_import_faults(conn, import_id, tally.errors)
        stored = await runtime.store.append(conn, stream_id=stream_id, stream_type="registry-import",
                                            expected_version=max(version, written), events=[completed], meta=meta)
    return _report({**completed.model_dump(), "completed_at": stored[0].occurred_at,
                    "imported_by": principal.subject}, duplicate=False)


def _report(row: dict[str, Any], *, duplicate: bool) -> ImportReport:
    return ImportReport(**{k: row[k] for k in ("import_id", "registry", "filename", "rows", "accepted", "rejected",
                                               "started_at", "completed_at", "imported_by")},
                        duplicate=duplicate, errors=row["errors"][:FAULTS_IN_EVENT])


ImportId = Annotated[str, PathParam(max_length=200)]


@router.get("/registry/imports/{import_id}", response_model=ImportReport)
async def get_import(import_id: ImportId, runtime: RuntimeDep) -> ImportReport:
    """The report of a finished import, with its first faults."""
    async with runtime.engine.connect() as conn:
        row = (await conn.execute(select(registry_imports).where(registry_imports.c.import_id == import_id))).first()
    if row is None:
        raise NotFound(f"no finished import {import_id}")
    return _report(dict(row._mapping), duplicate=False)


class ImportFault(BaseModel):
    """One refused row of an import file: where, and what is wrong (never the personal data itself)."""

    seq: int = Field(description="The fault's number in the file's order, from 1.")
    sheet: str | None = Field(None, description="The worksheet, when the workbook has several.")
    row: int | None
    column: str | None
    message: str


@router.get("/registry/imports/{import_id}/faults", response_model=Page[ImportFault])
async def get_import_faults(import_id: ImportId, runtime: RuntimeDep, asked: PagingDep) -> Page[ImportFault]:
    """Every fault of a finished import (up to 100,000), a page at a time in the file's order (by `seq`), not
    newest first: the faults of one file are read as its rows run. The cursor is the last fault's seq."""
    t = registry_import_faults
    after = cursor_integer(decode_cursor(asked.cursor)[0]) if asked.cursor else 0
    async with runtime.engine.connect() as conn:
        if not await conn.scalar(select(registry_imports.c.import_id).where(registry_imports.c.import_id == import_id)):
            raise NotFound(f"no finished import {import_id}")
        rows = (await conn.execute(select(t.c.seq, t.c.sheet, t.c.row, t.c.column, t.c.message)
                                   .where(t.c.import_id == import_id, t.c.seq > after)
                                   .order_by(t.c.seq).limit(asked.limit + 1))).all()
    more = len(rows) > asked.limit
    items = [ImportFault(**r._mapping) for r in rows[:asked.limit]]
    return Page[ImportFault](items=items, next_cursor=encode_cursor(items[-1].seq, import_id) if more else None)


class UpdateResult(BaseModel):
    update_id: str
    duplicate: bool = Field(description="This update was recorded before with the same content: nothing new.")
    recorded: int = Field(description="People added or changed now.")
    removed: int = Field(description="People taken off the registry now.")
    rejected: list[dict[str, Any]] = Field(description="Records refused: list, index and the field of each fault.")


class UpdateIn(BaseModel):
    """For the schema only: records are checked one by one, so that one bad record spoils nothing else."""

    update_id: str = Field(min_length=1, max_length=64, description="The sender's own id of this batch.")
    persons: list[dict[str, Any]] = Field(default_factory=list, description=(
        "People added or changed: `id_number` and the fields that change (a new person needs all required ones)."))
    removals: list[dict[str, Any]] = Field(default_factory=list,
                                           description="`{id_number, reason}` of each person to take off.")


def _update_route(path: str, registry: Registry, summary: str) -> None:
    @router.post(path, response_model=UpdateResult, summary=summary,
                 name=f"update_{registry.value}",
                 openapi_extra={"requestBody": {"content": {"application/json": {
                     "schema": UpdateIn.model_json_schema(ref_template="#/components/schemas/{model}")}}}})
    async def post_update(principal: CurrentPrincipal, runtime: RuntimeDep,
                          body: Any = Body(..., include_in_schema=False)) -> UpdateResult:
        """Status changes, new people and removals, as events alerting learns from; the same update twice is one."""
        return await _update(registry, body, principal, runtime)


_update_route("/registry/poor-population/updates", Registry.POOR_POPULATION, "Update 建档立卡贫困人口")
_update_route("/registry/public-employees/updates", Registry.PUBLIC_EMPLOYEES, "Update 财政供养人员")


async def _update(registry: Registry, body: Any, principal: Principal, runtime: Runtime) -> UpdateResult:
    if not isinstance(body, dict):
        raise InvalidInput("the body must be an object", errors=[fault("", "an object is required")])
    faults = [fault(name, "a list is required") for name in ("persons", "removals")
              if not isinstance(body.get(name, []), list)]
    update_id = body.get("update_id")
    if not isinstance(update_id, str) or not 0 < len(update_id.strip()) <= 64:
        faults.append(fault("update_id", "1 to 64 characters are required"))
    faults += [fault(name, "unknown field") for name in body
               if name not in ("update_id", "persons", "removals")]
    if faults:
        raise InvalidInput("the update is malformed", errors=faults)
    count = len(body.get("persons", [])) + len(body.get("removals", []))
    limit = runtime.settings.max_batch_records
    if count > limit:
        raise InvalidInput(f"at most {limit} records per update",
                           errors=[fault("persons", f"{count} records, at most {limit}")])
    update_id = update_id.strip()
    today = clock().today()
    checked = check_update(registry, body, today)
    personal = PersonalData.from_settings(runtime.settings)
    digest = keyed_digest(body, runtime.settings.record_digest_key.get_secret_value().encode())
    stream_id = f"registry-update-{registry.value}-{update_id}"
    meta = runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit)
    async with runtime.engine.begin() as conn:
        history = await runtime.store.read_stream(conn, stream_id)
        if history:
            if history[0].payload["source"].get("digest") != digest:
                raise ConcurrencyConflict(f"update {update_id} was recorded with different content",
                                          errors=[fault("update_id", "already used")])
            return UpdateResult(update_id=update_id, duplicate=True, recorded=0, removed=0, rejected=checked.rejected)
        indexes = {r.id_number: personal.blind_index(r.id_number) for r in checked.persons + checked.removals}
        existing = {e["id_index"]: e for e in await registry_entries(conn, registry, list(indexes.values()))}
        persons, removals, rejected, vault = _apply_update(registry, checked, indexes, existing, personal, today)
        events: list[DomainEvent] = [
            RECORDED[registry](source=RegistrySource(kind="update", id=update_id, part=n + 1, digest=digest),
                               persons=persons[i:i + PART_SIZE])
            for n, i in enumerate(range(0, len(persons), PART_SIZE))]
        events += [RegistryPersonsRemoved(
            registry=registry, persons=removals[i:i + PART_SIZE],
            source=RegistrySource(kind="update", id=update_id, part=len(events) + n + 1, digest=digest))
            for n, i in enumerate(range(0, len(removals), PART_SIZE))]
        if events:
            await keep_personal_data(conn, vault)
            await runtime.store.create_streams(conn, [NewStream(stream_id, "registry-update", events)], meta)
    return UpdateResult(update_id=update_id, duplicate=False, recorded=len(persons), removed=len(removals),
                        rejected=checked.rejected + rejected)


def _apply_update(registry: Registry, checked: Any, indexes: dict[str, str], existing: dict[str, dict[str, Any]],
                  personal: PersonalData, today: date) -> tuple[list[Any], list[Any], list[dict[str, Any]],
                                                                 list[tuple[str, str]]]:
    """Each record merged onto the person's current entry and checked whole; a person once per update."""
    checker = RowChecker(registry, personal, today)
    model = ENTRY[registry]
    persons, removals, rejected, vault = [], [], [], []
    first_place: dict[str, str] = {}
    for key, records in (("persons", checked.persons), ("removals", checked.removals)):
        for record in records:
            where = f"{key}[{record.index}]"
            index = indexes[record.id_number]
            if index in first_place:
                rejected.append({"index": record.index, "list": key, "errors": [
                    fault(f"{where}.id_number", f"the same person as {first_place[index]}")]})
                continue
            first_place[index] = where
            if key == "removals":
                if index not in existing:
                    rejected.append({"index": record.index, "list": key, "errors": [
                        fault(f"{where}.id_number", "this person is not on the registry")]})
                    continue
                removals.append(RemovedPerson(
                    id_index=index, id_masked=mask_id_number(record.id_number),
                    reason=record.values.get("reason") or None))
                continue
            current = entry_values(registry, existing[index]) if index in existing else {}
            entry, problems = checker.entry({**current, **record.values, "id_number": record.id_number},
                                            REQUIRED[registry])
            if problems:
                rejected.append({"index": record.index, "list": key, "errors": [
                    fault(f"{where}.{name}", message) for name, message in problems.items()]})
                continue
            persons.append(model(**entry))
            vault.append((index, personal.encrypt(record.id_number)))
    return persons, removals, rejected, vault


class RegistryEntryOut(BaseModel):
    registry: Registry
    name: str
    org_unit: str | None
    household: str | None = None
    town: str | None = None
    village: str | None = None
    status: str | None = None
    year: int | None = None
    employer: str | None = None
    updated_at: datetime


class PersonLookup(BaseModel):
    """The ID number travels in a body, never in a URL: URLs end up in the logs of proxies and browsers."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id_number: str = Field(min_length=1, max_length=40, description="The full ID number (GB 11643).")


class PersonOut(BaseModel):
    # The caller sent the number; the answer does not repeat it (answers may be kept, e.g. for Idempotency-Key).
    id_masked: str
    entries: list[RegistryEntryOut] = Field(description="The person on each registry, within the caller's scope.")


@router.post("/registry/persons/lookup", response_model=PersonOut)
async def look_up_person(body: PersonLookup, principal: CurrentPrincipal, runtime: RuntimeDep) -> PersonOut:
    """A person's registry entries by ID number, for callers with the PII permission; every such read is audited."""
    if not principal.pii:
        raise Forbidden("reading a person by ID number needs the PII permission")
    try:
        number = check_id_number(body.id_number, clock().today())
    except ValueError as exc:
        raise InvalidInput(str(exc), errors=[fault("id_number", str(exc))]) from None
    personal = PersonalData.from_settings(runtime.settings)
    person = PersonRef(id_index=personal.blind_index(number), id_masked=mask_id_number(number))
    async with runtime.engine.begin() as conn:
        entries = [e for e in await registry_entries(conn, None, [person.id_index])
                   if principal.citywide or e["org_unit"] == principal.org_unit]
        # The read is recorded in the same transaction as it is answered: no unaudited read.
        await runtime.store.create_streams(conn, [NewStream(
            f"pii-read-{uuid4()}",
            "pii-read", [PersonalDataRevealed(person=person, what="registry_person", found=bool(entries))])],
            runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit))
    return PersonOut(id_masked=person.id_masked, entries=[RegistryEntryOut(**e) for e in entries])
