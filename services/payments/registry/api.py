"""The registries' bulk imports (建档立卡, 财政供养人员): a file read in a worker, its report and its faults."""

import hashlib
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, UploadFile
from fastapi import Path as PathParam
from pydantic import BaseModel, Field
from sqlalchemy import select

from backbone.clock import clock
from backbone.errors import InvalidInput, NotFound, PayloadTooLarge, fault
from backbone.files import plain_filename
from backbone.identity import CurrentPrincipal, Principal
from backbone.pages import Page, PagingDep
from backbone.paging import cursor_integer, decode_cursor, encode_cursor
from backbone.pii import PersonalData
from backbone.service import Runtime, RuntimeDep
from contracts.registry import FAULTS_IN_EVENT, PoorPerson, PublicEmployee, RegistryImportCompleted
from contracts.values import Registry
from services.payments.projections import keep_personal_data
from services.payments.registry.worker import RegistryReading
from services.payments.registry.projections import (keep_import_faults, registry_import_faults,
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

        A file that fails as a whole (unreadable, empty, a required column missing: headers in docs/domain.md)
        is a 422 naming the column, and is not remembered. The same file again records nothing new; a file
        whose import was cut short resumes where it stopped.
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
    if tally.failed:
        # Nothing was read, so nothing is remembered: the same file sent again after the cause is fixed imports.
        raise InvalidInput(_failure(tally.errors[0]), errors=[
            fault("file", e["message"], **{k: e[k] for k in ("column", "row", "sheet") if e.get(k) is not None})
            for e in tally.errors[:FAULTS_IN_EVENT]])
    completed = RegistryImportCompleted(
        registry=registry, import_id=import_id, filename=filename, rows=tally.rows, accepted=tally.accepted,
        rejected=tally.rejected, errors=tally.errors[:FAULTS_IN_EVENT], started_at=started)
    async with runtime.engine.begin() as conn:
        await keep_import_faults(conn, import_id, tally.errors)
        stored = await runtime.store.append(conn, stream_id=stream_id, stream_type="registry-import",
                                            expected_version=max(version, written), events=[completed], meta=meta)
    return _report({**completed.model_dump(), "completed_at": stored[0].occurred_at,
                    "imported_by": principal.subject}, duplicate=False)


def _failure(first: dict[str, Any]) -> str:
    where = f"column {first['column']}: " if first.get("column") else ""
    return f"the file cannot be imported: {where}{first['message']}"


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
