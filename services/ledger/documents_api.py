"""Ledger routes for the scanned documents of indicators (指标文件扫描件): attach, list, download."""

import asyncio
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated
from uuid import uuid4

from fastapi import APIRouter, File, Response, UploadFile, status
from fastapi import Path as PathParam
from pydantic import BaseModel, Field
from sqlalchemy import CTE, Integer, Select, literal_column, select

from backbone.clock import clock
from backbone.errors import NotFound
from backbone.identity import CurrentPrincipal
from backbone.pages import Page, PagingDep
from backbone.paging import newest_first
from backbone.service import RuntimeDep
from backbone.settings import Settings
from contracts.ledger import IndicatorDocumentAttached
from services.ledger.api import visible_indicator
from services.ledger.documents import (DocumentStore, accept, clean_filename, content_disposition,
                                       document_store)
from services.ledger.projections import documents, indicators

router = APIRouter(prefix="/api/v1", tags=["ledger"])

Sha256 = Annotated[str, PathParam(pattern=r"^[0-9a-f]{64}$", description="The document's address (lowercase hex).")]


class DocumentOut(BaseModel):
    """A scanned document (指标文件扫描件) attached to an indicator."""

    document_id: str
    sha256: str
    media_type: str = Field(description="Read from the bytes, not from what the uploader declared.")
    size: int
    filename: str


class ListedDocumentOut(DocumentOut):
    attached_by: str
    attached_at: datetime
    inherited_from: str | None = Field(description="The ancestor indicator it is attached to; null for its own.")


def store_of(settings: Settings) -> DocumentStore:
    """The document store the settings configure, built once per process."""
    return _store(settings.document_dir, settings.document_s3_bucket, settings.document_s3_endpoint,
                  settings.document_s3_region, settings.document_s3_prefix,
                  settings.document_s3_access_key.get_secret_value() if settings.document_s3_access_key else None,
                  settings.document_s3_secret_key.get_secret_value() if settings.document_s3_secret_key else None)


@lru_cache
def _store(directory: Path, bucket: str | None, endpoint: str | None, region: str, prefix: str,
           access_key: str | None, secret_key: str | None) -> DocumentStore:
    return document_store(directory=directory, bucket=bucket, endpoint=endpoint, region=region, prefix=prefix,
                          access_key=access_key, secret_key=secret_key)


@router.post("/indicators/{indicator_id}/documents", status_code=status.HTTP_201_CREATED, response_model=DocumentOut,
             responses={200: {"model": DocumentOut, "description": "This file was attached already: nothing new."}})
async def post_document(indicator_id: str, file: Annotated[UploadFile, File(description="PDF, JPEG or PNG scan")],
                        response: Response, principal: CurrentPrincipal, runtime: RuntimeDep) -> DocumentOut:
    """Attach a scanned document (指标文件扫描件) to an indicator; the same file twice is attached once."""
    limit = runtime.settings.max_document_bytes
    # One byte over the limit is enough to refuse, without taking the whole upload into memory.
    data = await file.read(limit + 1)
    media_type = accept(data, limit=limit)
    async with runtime.engine.connect() as conn:
        # Checked before storing, so callers cannot leave bytes behind for indicators they cannot see.
        await visible_indicator(conn, principal, indicator_id)
    store = store_of(runtime.settings)
    sha256 = await asyncio.to_thread(store.put, data)
    async with runtime.engine.begin() as conn:
        # The row lock serialises uploads to one indicator: the same file sent twice at once is attached once.
        row = (await visible_indicator(conn, principal, indicator_id, lock=True))[0]
        existing = (await conn.execute(select(documents).where(documents.c.indicator_id == indicator_id,
                                                               documents.c.sha256 == sha256))).first()
        if existing is not None:
            response.status_code = status.HTTP_200_OK
            return DocumentOut.model_validate(dict(existing._mapping))
        event = IndicatorDocumentAttached(
            indicator_id=indicator_id, document_id=str(uuid4()), sha256=sha256, media_type=media_type,
            size=len(data), filename=clean_filename(file.filename, media_type),
            attached_on=clock().today(),
        )
        await runtime.store.append(conn, stream_id=f"indicator-{indicator_id}", stream_type="indicator",
                                   expected_version=row["version"], events=[event],
                                   meta=runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit))
    return DocumentOut.model_validate(event.model_dump())


@router.get("/indicators/{indicator_id}/documents", response_model=Page[ListedDocumentOut])
async def get_documents(indicator_id: str, principal: CurrentPrincipal, runtime: RuntimeDep,
                        asked: PagingDep) -> Page[ListedDocumentOut]:
    """The documents of an indicator and of every indicator it was allocated from (`inherited_from` names which),
    newest first by (attached_at, document_id)."""
    async with runtime.engine.connect() as conn:
        await visible_indicator(conn, principal, indicator_id)
        rows, next_cursor = await newest_first(conn, _documents_in(_lineage(indicator_id)), documents.c.attached_at,
                                               documents.c.document_id, asked.cursor, asked.limit)
    return Page[ListedDocumentOut](items=[
        ListedDocumentOut.model_validate({**row._mapping, "inherited_from": row.indicator_id if row.depth else None})
        for row in rows], next_cursor=next_cursor)


@router.get("/indicators/{indicator_id}/documents/{sha256}", response_class=Response,
            responses={200: {"content": {"application/pdf": {}, "image/jpeg": {}, "image/png": {}},
                             "description": "The document's bytes."}})
async def get_document(indicator_id: str, sha256: Sha256, principal: CurrentPrincipal, runtime: RuntimeDep
                       ) -> Response:
    """Download a document of an indicator or of one of its ancestors."""
    async with runtime.engine.connect() as conn:
        await visible_indicator(conn, principal, indicator_id)
        lineage = _lineage(indicator_id)
        row = (await conn.execute(_documents_in(lineage).where(documents.c.sha256 == sha256)
                                  .order_by(lineage.c.depth).limit(1))).first()
    if row is None:
        raise NotFound(f"document {sha256} is not attached to indicator {indicator_id} or its ancestors")
    data = await asyncio.to_thread(store_of(runtime.settings).open, sha256)
    return Response(data, media_type=row.media_type, headers={
        "Content-Disposition": content_disposition(row.filename),
        # Served as what the bytes were found to be: browsers must not guess otherwise.
        "X-Content-Type-Options": "nosniff",
        "ETag": f'"{sha256}"',
    })


def _lineage(indicator_id: str) -> CTE:
    """The indicator and its ancestors up the `parent_id` chain, each with its distance (0 for itself)."""
    start = (select(indicators.c.indicator_id, indicators.c.parent_id, literal_column("0", Integer).label("depth"))
             .where(indicators.c.indicator_id == indicator_id).cte("lineage", recursive=True))
    return start.union_all(
        select(indicators.c.indicator_id, indicators.c.parent_id, (start.c.depth + 1).label("depth"))
        .where(indicators.c.indicator_id == start.c.parent_id)
    )


def _documents_in(lineage: CTE) -> Select:
    return select(documents, lineage.c.depth).join(lineage, lineage.c.indicator_id == documents.c.indicator_id)
