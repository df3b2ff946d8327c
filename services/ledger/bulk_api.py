"""Bulk import of indicators (CSV / XLSX with Chinese headers), which also reads back the ledger export (export.py)."""

import hashlib
from typing import Annotated
from uuid import NAMESPACE_URL, uuid5

from fastapi import APIRouter, File, UploadFile
from pydantic import BaseModel, Field

from backbone.clock import clock
from backbone.errors import Forbidden, InvalidInput, PayloadTooLarge, fault
from backbone.eventstore import NewStream, PreparedEvent
from backbone.identity import CurrentPrincipal
from backbone.limited import run_limited
from backbone.service import RuntimeDep
from contracts.ledger import IndicatorRegistered
from services.ledger.domain import registration_payload
from services.ledger.imports import parse_indicator_file

router = APIRouter(prefix="/api/v1", tags=["ledger"])
MAX_ERRORS_SHOWN = 1000
# Indicators written per transaction. Any open transaction holds back every service's event feed (`read_all`
# reads below the oldest open transaction of the whole database), so a file written in one transaction froze
# alert streams until it committed; in parts, the feeds wait for one part at most.
IMPORT_PART_ROWS = 500


class ImportResult(BaseModel):
    imported: int = Field(description="Indicators registered now.")
    duplicates: int = Field(description="Rows of a file imported before: nothing new.")
    ids: list[str] = Field(description="The indicator id of each data row, in file order.")


@router.post("/indicators/import", response_model=ImportResult)
async def import_indicators(file: Annotated[UploadFile, File(description="CSV or XLSX, Chinese headers")],
                            principal: CurrentPrincipal, runtime: RuntimeDep) -> ImportResult:
    """Register every row of a file, or none: any bad row fails the import with every error listed. Every row
    is checked before the first is written; the rows are then written in parts of IMPORT_PART_ROWS, each in
    its own transaction. A failure part-way (the database gone) keeps the parts written, and the same file
    sent again writes the rest: a row's id follows from the file and the row, so nothing is created twice."""
    limit = runtime.settings.max_import_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"the file is larger than {limit} bytes",
                             errors=[fault("file", f"at most {limit} bytes")])
    settings = runtime.settings
    parsed = await run_limited(parse_indicator_file, data, file.filename or "",
                               memory_bytes=settings.parse_memory_mb * 2**20, seconds=settings.parse_seconds)
    if parsed.errors:
        raise InvalidInput(f"{len(parsed.errors)} errors: nothing was imported", error_count=len(parsed.errors),
                           errors=parsed.errors[:MAX_ERRORS_SHOWN])
    outside = [fault(None, "outside your org unit or division", row=n, column="单位")
               for n, row in zip(parsed.line_numbers, parsed.rows, strict=True)
               if not principal.can_see(org_unit=row.org_unit, owner_division=row.owner_division)]
    if outside:
        raise Forbidden(f"{len(outside)} rows are outside your scope: nothing was imported", errors=outside[:100])
    # The same file imported twice creates nothing new: a row's id follows from the file and the row,
    # and a row that names its indicator (an export imported back) is that indicator.
    digest = hashlib.sha256(data).hexdigest()
    today = clock().today()
    ids = [given or str(uuid5(NAMESPACE_URL, f"fundwatch:import:{digest}:{n}"))
           for n, given in enumerate(parsed.indicator_ids)]
    # Every row passed `register_indicator` as the file was read.
    streams = [NewStream(f"indicator-{iid}", "indicator", [PreparedEvent(
        IndicatorRegistered.event_type, IndicatorRegistered.schema_version,
        registration_payload(indicator_id=iid, row=row, today=today))])
               for iid, row in zip(ids, parsed.rows, strict=True)]
    meta = runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit)
    imported = duplicates = 0
    for start in range(0, len(streams), IMPORT_PART_ROWS):
        async with runtime.engine.begin() as conn:
            stored, existing = await runtime.store.create_streams(conn, streams[start:start + IMPORT_PART_ROWS], meta)
        imported, duplicates = imported + len(stored), duplicates + len(existing)
    return ImportResult(imported=imported, duplicates=duplicates, ids=ids)
