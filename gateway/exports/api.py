"""Export routes of the gateway: request an export, the poverty office co-signs it, the requester downloads it once."""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import httpx
from fastapi import APIRouter, Header, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.background import BackgroundTask
from starlette.responses import StreamingResponse

from backbone.errors import InvalidInput, NotFound, ServiceUnavailable, fault
from backbone.eventstore import NewStream
from backbone.idempotency import REPLAYED, keyed_id
from backbone.identity import ExportGrant, Principal
from backbone.lifecycle import StepOutOfTurn
from backbone.pages import Page, PagingDep
from backbone.paging import newest_first
from backbone.workbooks import XLSX
from backbone.service import Runtime, RuntimeDep
from contracts.envelope import EventMetadata
from contracts.gateway import ExportDownloaded, ExportRequested
from gateway.auth import Caller
from gateway.exports.domain import (COSIGNER_ROLE, ExportRequest, ExportStatus, check_download,
                                    check_request, cosign)
from gateway.exports.download import fetch_export, passed_headers
from gateway.exports.projections import export_requests

router = APIRouter(prefix="/api/v1", tags=["exports"])
ex = export_requests.c
# Longer than any service takes to build a file: an older claim is a download that died on the way.
CLAIM_LASTS = timedelta(minutes=10)


class ExportIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    path: str = Field(examples=["/ledger/export"], description="The export route, e.g. /ledger/export, "
                      "/payments/export, /alerts/export, /performance-goals/export, /dispositions/export, "
                      "/rule-proposals/export, /requirements/export.")
    params: dict[str, str | int | bool] = Field(default_factory=dict, examples=[{"fiscal_year": 2026}],
                                                description="The route's filters (query parameters).")
    purpose: str = Field(min_length=1, max_length=500, description="用途")
    recipient: str | None = Field(None, min_length=1, max_length=200, examples=["省财政厅"],
                                  description="The outsider the data is given to (对外提供); null: internal use.")


class CosignatureIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    decision: Literal["approved", "refused"]
    opinion: str = Field(min_length=1, max_length=2000, description="会签意见")


class ExportOut(BaseModel):
    id: str
    path: str
    params: dict[str, Any]
    purpose: str
    recipient: str | None
    requester: str
    requester_org_unit: str | None
    requested_at: datetime
    status: ExportStatus = Field(description="requested, approved, refused, downloaded, or expired (approved but "
                                             "not downloaded in time).")
    cosigner: str | None
    opinion: str | None
    cosigned_at: datetime | None
    download_until: datetime | None = Field(description="The requester may download the file once until then.")
    downloaded_at: datetime | None


def _request(row: Any) -> ExportRequest:
    return ExportRequest(**{k: v for k, v in row._mapping.items() if k != "status"}, status=ExportStatus(row.status))


def _out(request: ExportRequest, now: datetime) -> ExportOut:
    fields = {k: v for k, v in vars(request).items() if k not in ("export_id", "status", "download_claimed_at")}
    return ExportOut(id=request.export_id, status=request.status_at(now), **fields)


def _listed(principal: Principal) -> Any:
    """The requests a caller's list shows: its own, and for the poverty office those awaiting it and those it
    co-signed."""
    if not principal.has_any(COSIGNER_ROLE):
        return ex.requester == principal.subject
    return or_(ex.requester == principal.subject, ex.status == ExportStatus.REQUESTED, ex.cosigner == principal.subject)


async def _load(conn: AsyncConnection, principal: Principal, export_id: str, *, lock: bool = False) -> ExportRequest:
    """One request, as its requester and the poverty office see it; to anyone else it does not exist."""
    q = select(export_requests).where(ex.export_id == export_id)
    row = (await conn.execute(q.with_for_update() if lock else q)).first()
    if row is None or not (row.requester == principal.subject or principal.has_any(COSIGNER_ROLE)):
        raise NotFound(f"export request {export_id} does not exist")
    return _request(row)


def _meta(runtime: Runtime, principal: Principal) -> EventMetadata:
    return runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit)


@router.post("/exports", status_code=201, response_model=ExportOut)
async def request_export(body: ExportIn, principal: Caller, runtime: RuntimeDep, response: Response,
                         idempotency_key: Annotated[str | None, Header(max_length=200)] = None) -> ExportOut:
    """Ask to export data (or to give it to an outsider); the poverty office co-signs before it can be downloaded.
    The same `Idempotency-Key` twice asks once."""
    path = check_request(requester=principal, path=body.path, params=body.params)
    export_id = keyed_id("export", principal.subject, idempotency_key)
    event = ExportRequested(export_id=export_id, path=path, params=body.params, purpose=body.purpose,
                            recipient=body.recipient, requester=principal.subject,
                            requester_org_unit=principal.org_unit)
    async with runtime.engine.begin() as conn:
        _, existing = await runtime.store.create_streams(
            conn, [NewStream(f"export-{export_id}", "export", [event])], _meta(runtime, principal))
        request = await _load(conn, principal, export_id)
    if existing:
        if (request.path, request.params, request.purpose, request.recipient) != (
                path, body.params, body.purpose, body.recipient):
            raise InvalidInput("Idempotency-Key reused for another export request", errors=[
                fault("Idempotency-Key", "reused with a different request")])
        response.headers[REPLAYED] = "true"
    return _out(request, datetime.now(UTC))


@router.get("/exports", response_model=Page[ExportOut])
async def list_exports(principal: Caller, runtime: RuntimeDep, asked: PagingDep,
                       status: ExportStatus | None = None) -> Page[ExportOut]:
    """The caller's own export requests, newest first by (requested_at, id); the poverty office also sees every
    one awaiting it."""
    now = datetime.now(UTC)
    where = [_listed(principal)]
    if status == ExportStatus.EXPIRED:
        where += [ex.status == ExportStatus.APPROVED, ex.download_until <= now]
    elif status == ExportStatus.APPROVED:
        where += [ex.status == ExportStatus.APPROVED, ex.download_until > now]
    elif status is not None:
        where.append(ex.status == status)
    async with runtime.engine.connect() as conn:
        rows, next_cursor = await newest_first(conn, select(export_requests).where(and_(*where)), ex.requested_at,
                                               ex.export_id, asked.cursor, asked.limit)
    return Page[ExportOut](items=[_out(_request(r), now) for r in rows], next_cursor=next_cursor)


@router.get("/exports/{export_id}", response_model=ExportOut)
async def get_export(export_id: str, principal: Caller, runtime: RuntimeDep) -> ExportOut:
    """One export request, to its requester and to the poverty office."""
    async with runtime.engine.connect() as conn:
        return _out(await _load(conn, principal, export_id), datetime.now(UTC))


@router.post("/exports/{export_id}/cosignature", response_model=ExportOut)
async def cosign_export(export_id: str, body: CosignatureIn, principal: Caller, runtime: RuntimeDep) -> ExportOut:
    """The poverty office (局脱贫办) approves or refuses an export (会签); never the requester's own."""
    now = datetime.now(UTC)
    async with runtime.engine.begin() as conn:
        request = await _load(conn, principal, export_id, lock=True)
        event = cosign(request, by=principal, decision=body.decision, opinion=body.opinion, now=now,
                       download_hours=runtime.settings.export_download_hours)
        if event is not None:
            await runtime.store.append(conn, stream_id=f"export-{export_id}", stream_type="export",
                                       expected_version=await runtime.store.version(conn, f"export-{export_id}"),
                                       events=[event], meta=_meta(runtime, principal))
            request = await _load(conn, principal, export_id)
    return _out(request, now)


@router.get("/exports/{export_id}/file", response_class=Response,
            responses={200: {"content": {XLSX: {}}, "description": "The co-signed export, stamped with its requester."},
                       410: {"description": "Downloaded already, or past its time."}})
async def download_export(export_id: str, request: Request, principal: Caller, runtime: RuntimeDep) -> Response:
    """The file of an approved export, to its requester, once, within the time limit; the service builds it within
    the requester's data scope."""
    grant, params, claim = await _claim(runtime, principal, export_id)
    upstream: httpx.Response | None = None
    try:
        # No database connection is held while the service builds the file (it may take a while).
        upstream = await fetch_export(request.app.state.http, runtime.settings, principal, grant, params)
        async with runtime.engine.begin() as conn:
            held = await conn.scalar(select(ex.download_claimed_at).where(ex.export_id == export_id)
                                     .with_for_update())
            if held != claim:
                # Taken over as a dead download while this one was still building: the other is the one.
                raise StepOutOfTurn(f"export {export_id} was claimed by another download; it is downloaded once")
            await conn.execute(update(export_requests).where(ex.export_id == export_id)
                               .values(download_claimed_at=None))
            if upstream.status_code == 200:
                await runtime.store.append(
                    conn, stream_id=f"export-{export_id}", stream_type="export",
                    expected_version=await runtime.store.version(conn, f"export-{export_id}"),
                    events=[ExportDownloaded(export_id=export_id, downloaded_by=principal.subject)],
                    meta=_meta(runtime, principal))
    except BaseException as exc:
        if upstream is not None:
            await upstream.aclose()
        await _release(runtime, export_id, claim)
        if isinstance(exc, httpx.HTTPError):
            raise ServiceUnavailable(f"the service that exports {export_id} is not reachable") from exc
        raise
    if upstream.status_code != 200:
        # The service refused (scope, parameters): the download is not used up.
        return Response(await upstream.aread(), status_code=upstream.status_code, headers=passed_headers(upstream))
    return StreamingResponse(upstream.aiter_raw(), status_code=upstream.status_code, headers=passed_headers(upstream),
                             background=BackgroundTask(upstream.aclose))


async def _claim(runtime: Runtime, principal: Principal, export_id: str
                 ) -> tuple[ExportGrant, dict[str, Any], datetime]:
    """The grant, the parameters and the claim (its time), once the export is claimed for this download; a
    download under way is a 409 (a claim older than CLAIM_LASTS is taken to be a gateway that died on the way,
    and is taken over)."""
    now = datetime.now(UTC)
    async with runtime.engine.begin() as conn:
        export = await _load(conn, principal, export_id, lock=True)
        grant = check_download(export, by=principal, now=now)
        claimed = export.download_claimed_at
        if claimed is not None and now - claimed < CLAIM_LASTS:
            raise StepOutOfTurn(f"export {export_id} is being downloaded; it is downloaded once")
        await conn.execute(update(export_requests).where(export_requests.c.export_id == export_id)
                           .values(download_claimed_at=now))
    return grant, export.params, now


async def _release(runtime: Runtime, export_id: str, claim: datetime) -> None:
    """Give the download back, unless another has taken it over since."""
    async with runtime.engine.begin() as conn:
        await conn.execute(update(export_requests).where(ex.export_id == export_id, ex.download_claimed_at == claim)
                           .values(download_claimed_at=None))
