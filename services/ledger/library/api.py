"""The library of regulations and notices (第十七条): file a document with its tags, list and search it, download
it, and the offices it is copied to (局脱贫办, 国库处) mark it read. The bytes are kept in the documents' store
(services/ledger/documents.py), checked the same way."""

import asyncio
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Response, UploadFile, status
from pydantic import BaseModel, Field
from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.errors import InvalidInput, NotFound, fault
from backbone.eventstore import NewStream
from backbone.identity import CurrentPrincipal
from backbone.pages import Page, PagingDep
from backbone.paging import newest_first
from backbone.service import RuntimeDep
from contracts.ledger import LibraryDocumentFiled, LibraryDocumentRead, LibraryKind
from services.ledger.documents import accept, clean_filename, content_disposition
from services.ledger.documents_api import store_of
from services.ledger.library.domain import COPIED_TO, distinct, document_id_for, reading_office, tag_faults
from services.ledger.library.projections import library, library_reads

router = APIRouter(prefix="/api/v1", tags=["library"])


class CopyOut(BaseModel):
    """One office the document is copied to (抄送), and whether it has read it (已阅)."""

    office: str
    read_by: str | None
    read_at: datetime | None


class LibraryDocumentOut(BaseModel):
    document_id: str
    title: str
    kind: LibraryKind
    doc_no: str | None
    issued_on: date | None
    issuing_division: str | None
    fund_codes: list[str]
    rules: list[str]
    sha256: str
    media_type: str
    size: int
    filename: str
    filed_by: str
    filed_at: datetime
    copies: list[CopyOut] = Field(description="抄送: 局脱贫办 and 国库处, each with its read mark.")


async def _out(conn: AsyncConnection, rows: Any) -> list[LibraryDocumentOut]:
    """Documents as answered: each with a copy per office and that office's read mark."""
    ids = [r.document_id for r in rows]
    reads = {(r.document_id, r.office): r for r in await conn.execute(
        select(library_reads).where(library_reads.c.document_id.in_(ids)))} if ids else {}
    out = []
    for row in rows:
        marks = [(o, reads.get((row.document_id, o))) for o in row.copied_to]
        copies = [CopyOut(office=o, read_by=r.read_by if r else None, read_at=r.read_at if r else None)
                  for o, r in marks]
        out.append(LibraryDocumentOut(**{k: v for k, v in row._mapping.items() if k != "copied_to"}, copies=copies))
    return out


async def _one(conn: AsyncConnection, document_id: str, *, lock: bool = False) -> LibraryDocumentOut:
    q = select(library).where(library.c.document_id == document_id)
    row = (await conn.execute(q.with_for_update() if lock else q)).first()
    if row is None:
        raise NotFound(f"no library document {document_id}")
    return (await _out(conn, [row]))[0]


@router.post("/library", status_code=status.HTTP_201_CREATED, response_model=LibraryDocumentOut,
             responses={200: {"model": LibraryDocumentOut, "description": "This file was filed already: nothing new."}})
async def file_document(
        file: Annotated[UploadFile, File(description="PDF, JPEG or PNG")],
        title: Annotated[str, Form(min_length=1, max_length=200, description="标题")],
        kind: Annotated[LibraryKind, Form(description="regulation 制度, measures 资金管理办法, indicator_document "
                                                      "预算指标文件, notice 通知, other")],
        response: Response, principal: CurrentPrincipal, runtime: RuntimeDep,
        doc_no: Annotated[str | None, Form(max_length=100, description="文号")] = None,
        issued_on: Annotated[date | None, Form(description="印发日期")] = None,
        fund_codes: Annotated[list[str], Form(description="支出功能分类科目 codes of the funds it governs")] = [],  # noqa: B006
        rules: Annotated[list[str], Form(description="Numbers of the rules it bears on, e.g. ZC-001")] = [],  # noqa: B006
) -> LibraryDocumentOut:
    """File a regulation, management rule, indicator document or notice (第十七条); it is copied (抄送) to 局脱贫办
    and 国库处. The same file twice is filed once."""
    fund_codes, rules = distinct(fund_codes), distinct(rules)
    faults = tag_faults(fund_codes, rules)
    if faults:
        raise InvalidInput("the document's tags have faults", errors=faults)
    limit = runtime.settings.max_document_bytes
    data = await file.read(limit + 1)
    media_type = accept(data, limit=limit)
    sha256 = await asyncio.to_thread(store_of(runtime.settings).put, data)
    document_id = document_id_for(sha256)
    event = LibraryDocumentFiled(
        document_id=document_id, title=title.strip(), kind=kind, doc_no=(doc_no or "").strip() or None,
        issued_on=issued_on, issuing_division=principal.division, fund_codes=fund_codes, rules=rules, sha256=sha256,
        media_type=media_type, size=len(data), filename=clean_filename(file.filename, media_type),
        copied_to=list(COPIED_TO))
    async with runtime.engine.begin() as conn:
        _, existing = await runtime.store.create_streams(
            conn, [NewStream(f"library-{document_id}", "library-document", [event])],
            runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit))
        if existing:
            response.status_code = status.HTTP_200_OK
        return await _one(conn, document_id)


@router.get("/library", response_model=Page[LibraryDocumentOut])
async def list_documents(
        principal: CurrentPrincipal, runtime: RuntimeDep, asked: PagingDep,
        q: Annotated[str | None, Query(max_length=100, description="Words in the title or the 文号")] = None,
        kind: LibraryKind | None = None,
        fund_code: Annotated[str | None, Query(max_length=7, description="Tagged with this fund code")] = None,
        rule: Annotated[str | None, Query(max_length=6, description="Tagged with this rule number")] = None,
        unread: Annotated[bool, Query(description="Only those the caller's office (局脱贫办 or 国库处) has not "
                                                  "read yet: its 抄送 inbox")] = False,
) -> Page[LibraryDocumentOut]:
    """The library, newest first by (filed_at, document_id)."""
    query = select(library)
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(library.c.title.ilike(pattern), library.c.doc_no.ilike(pattern)))
    if kind:
        query = query.where(library.c.kind == kind)
    if fund_code:
        query = query.where(library.c.fund_codes.contains([fund_code]))
    if rule:
        query = query.where(library.c.rules.contains([rule]))
    if unread:
        office = reading_office(principal)
        query = query.where(library.c.copied_to.contains([office]), ~exists().where(
            library_reads.c.document_id == library.c.document_id, library_reads.c.office == office))
    async with runtime.engine.connect() as conn:
        rows, next_cursor = await newest_first(conn, query, library.c.filed_at, library.c.document_id, asked.cursor,
                                               asked.limit)
        return Page[LibraryDocumentOut](items=await _out(conn, rows), next_cursor=next_cursor)


@router.get("/library/{document_id}", response_model=LibraryDocumentOut)
async def get_document(document_id: str, principal: CurrentPrincipal, runtime: RuntimeDep) -> LibraryDocumentOut:
    """A library document with its tags and its read marks."""
    async with runtime.engine.connect() as conn:
        return await _one(conn, document_id)


@router.get("/library/{document_id}/file", response_class=Response,
            responses={200: {"content": {"application/pdf": {}, "image/jpeg": {}, "image/png": {}},
                             "description": "The document's bytes."}})
async def get_file(document_id: str, principal: CurrentPrincipal, runtime: RuntimeDep) -> Response:
    """Download a library document."""
    async with runtime.engine.connect() as conn:
        found = await _one(conn, document_id)
    data = await asyncio.to_thread(store_of(runtime.settings).open, found.sha256)
    return Response(data, media_type=found.media_type, headers={
        "Content-Disposition": content_disposition(found.filename), "X-Content-Type-Options": "nosniff",
        "ETag": f'"{found.sha256}"'})


@router.post("/library/{document_id}/read", response_model=LibraryDocumentOut)
async def mark_read(document_id: str, principal: CurrentPrincipal, runtime: RuntimeDep) -> LibraryDocumentOut:
    """The caller's office (局脱贫办 or 国库处) has read a document copied to it (已阅); read again, nothing new."""
    office = reading_office(principal)
    async with runtime.engine.begin() as conn:
        found = await _one(conn, document_id, lock=True)
        copy = next((c for c in found.copies if c.office == office), None)
        if copy is None:
            raise InvalidInput(f"document {document_id} is not copied to {office}",
                               errors=[fault("document_id", f"not copied to {office}")])
        if copy.read_by is not None:
            return found
        stream = f"library-{document_id}"
        await runtime.store.append(conn, stream_id=stream, stream_type="library-document",
                                   expected_version=await runtime.store.version(conn, stream),
                                   events=[LibraryDocumentRead(document_id=document_id, office=office)],
                                   meta=runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit))
        return await _one(conn, document_id)
