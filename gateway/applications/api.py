"""Permission applications (第二十五条, 附件3): apply, correct and resubmit, the lists, one application with its
history, and the form the treasury division sends to the province."""

import asyncio
from datetime import datetime
from typing import Annotated, Any
from uuid import uuid4

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import Row, and_, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

import structlog

from backbone.clock import clock
from backbone.errors import ConcurrencyConflict, Forbidden, InvalidInput, NotFound, fault
from backbone.eventstore import NewStream, is_unique_violation
from backbone.idempotency import REPLAYED, keyed_id
from backbone.identity import Principal
from backbone.pages import Page, PagingDep
from backbone.paging import newest_first
from backbone.workbooks import XLSX, xlsx_download
from backbone.pii import PersonalData, keyed_digest, mask_id_number
from backbone.service import Runtime, RuntimeDep
from backbone.workbooks import seed_form
from contracts.envelope import DomainEvent
from contracts.gateway import (PermissionApplicationResubmitted, PermissionApplicationSubmitted, PermissionForm,
                               PermissionFormExported)
from gateway.applications.domain import (OPEN_STATUSES, READERS_OF_ALL, Kind, Status, Step,
                                         may_apply, next_status)
from gateway.applications.form import (FORM_HEADERS, FORM_TITLE, ApplicationForm, ApplicationIn, event_form,
                                       form_row, permission_faults, placement, roles_beyond_applicant)
from gateway.applications.projections import applications, id_numbers, stream_of
from gateway.audit.chain import AuditEntry
from gateway.audit.consumers import REVEAL
from gateway.audit.recording import caller_ip, current_trace_id
from gateway.audit.trail import append_entries
from gateway.auth import Caller
from gateway.projections import api_keys, users

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/api/v1", tags=["permission applications"])




class ApplicationOut(BaseModel):
    application_id: str
    kind: Kind
    status: Status
    username: str
    org_unit: str
    division: str | None
    name: str = Field(description="姓名")
    id_masked: str = Field(description="身份证号, masked; the full number only in the form, for callers with the "
                                       "PII permission.")
    title: str = Field(description="职务")
    phone: str = Field(description="联系电话")
    roles: list[str]
    pii: bool
    remarks: str | None
    applicant: str
    applicant_org_unit: str | None
    return_reason: str | None = Field(description="Why the treasury division sent it back, last time.")
    province_remarks: str | None = Field(description="The provincial finance department's remarks.")
    submitted_at: datetime
    updated_at: datetime


class HistoryEntry(BaseModel):
    event_type: str
    occurred_at: datetime
    actor: str
    payload: dict[str, Any]


class ApplicationDetail(ApplicationOut):
    history: list[HistoryEntry] = Field(description="Every step, with the account changes it made.")


def application_out(row: Row[Any]) -> ApplicationOut:
    m = row._mapping
    form = PermissionForm.model_validate(m["form"])
    return ApplicationOut(**form.model_dump(), **{k: m[k] for k in ApplicationOut.model_fields if k in m
                                                  and k not in PermissionForm.model_fields})


@router.post("/permission-applications", status_code=201, response_model=ApplicationOut)
async def submit(body: ApplicationIn, response: Response, principal: Caller, runtime: RuntimeDep,
                 idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None
                 ) -> ApplicationOut:
    """Apply to open, change or revoke a person's account (附件3, 第二十五条(一)).

    The same application twice (by Idempotency-Key, or the same form while the first is open) is one."""
    digest = keyed_digest(body, runtime.settings.record_digest_key.get_secret_value().encode())
    application_id = keyed_id("permission-application", principal.subject, idempotency_key)
    async with runtime.engine.begin() as conn:
        earlier = await _earlier(conn, principal, application_id if idempotency_key else None, digest)
        if earlier is not None:
            response.headers[REPLAYED] = "true"
            return application_out(earlier)
        form = await _checked(conn, principal, body.kind, body)
        event = PermissionApplicationSubmitted(application_id=application_id, kind=body.kind, form=form,
                                               content_digest=digest)
        await append_step(conn, runtime, principal, application_id, 0, event)
        await _keep_id_number(conn, runtime, application_id, body.id_number)
        row = await application_row(conn, application_id)
    log.info("applications.submitted", application_id=application_id, kind=body.kind.value)
    return application_out(row)


async def _earlier(conn: AsyncConnection, principal: Principal, keyed_id: str | None, digest: str) -> Row[Any] | None:
    """The caller's earlier application this request repeats, if any."""
    c = applications.c
    if keyed_id is not None:
        row = await application_row(conn, keyed_id)
        if row is not None and row.content_digest != digest:
            raise InvalidInput("the Idempotency-Key was used before for another application",
                               errors=[fault("Idempotency-Key", "reused with a different application")])
        return row
    return (await conn.execute(select(applications).where(
        c.applicant == principal.subject, c.content_digest == digest, c.status.in_(OPEN_STATUSES)))).first()


async def _checked(conn: AsyncConnection, principal: Principal, kind: Kind, body: ApplicationForm,
                   application_id: str = "") -> PermissionForm:
    """The form as events carry it, after the checks against the accounts and the open applications."""
    account = (await conn.execute(select(users).where(users.c.username == body.username))).first()
    if kind is Kind.GRANT and account is not None:
        raise InvalidInput("the login name is taken", errors=[fault("username", "taken")])
    if kind is Kind.GRANT and await conn.scalar(select(api_keys.c.key_id).where(api_keys.c.subject == body.username)
                                                .limit(1)) is not None:
        # The audit trail names a key's writes by its machine's name: no person may carry it.
        raise InvalidInput("the login name is a machine's", errors=[fault("username", "a machine's")])
    if kind is not Kind.GRANT and (account is None or account.revoked_at is not None):
        raise InvalidInput("no active account of that name", errors=[
            fault("username", "no active account")])
    if kind is Kind.REVOKE:
        org_unit, division, roles, pii = account.org_unit, account.division, list(account.roles), account.pii
    else:
        org_unit, division = placement(body)
        roles, pii = list(body.roles), body.pii
        if faults := permission_faults(org_unit, division, roles):
            raise InvalidInput("the permissions do not fit where the person works", errors=faults)
        if faults := roles_beyond_applicant(principal.roles, roles):
            raise Forbidden("the applicant may not ask for these roles", errors=faults)
    if not may_apply(principal, org_unit, division) or (
            account is not None and not may_apply(principal, account.org_unit, account.division)):
        raise Forbidden("a district applies for its own org unit, a division for its own division")
    c = applications.c
    busy = await conn.scalar(select(c.application_id).where(
        c.username == body.username, c.status.in_(OPEN_STATUSES), c.application_id != application_id))
    if busy is not None:
        raise ConcurrencyConflict(f"application {busy} for {body.username} is under way", application_id=busy)
    return event_form(body, mask_id_number(body.id_number), org_unit, division, roles, pii)


async def append_step(conn: AsyncConnection, runtime: Runtime, principal: Principal, application_id: str,
                      version: int, event: DomainEvent) -> None:
    try:
        await runtime.store.append(conn, stream_id=stream_of(application_id), stream_type="permission-application",
                                   expected_version=version, events=[event],
                                   meta=runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit))
    except IntegrityError as exc:
        # At most one open application per login name: a concurrent one lost the race.
        if not is_unique_violation(exc):
            raise
        raise ConcurrencyConflict("another application for this person is under way") from exc


async def _keep_id_number(conn: AsyncConnection, runtime: Runtime, application_id: str, id_number: str) -> None:
    cipher = PersonalData.from_settings(runtime.settings).encrypt(id_number)
    stmt = insert(id_numbers).values(application_id=application_id, id_cipher=cipher)
    await conn.execute(stmt.on_conflict_do_update(index_elements=[id_numbers.c.application_id],
                                                  set_={"id_cipher": cipher}))


async def application_row(conn: AsyncConnection, application_id: str, *where: Any, lock: bool = False
                          ) -> Row[Any] | None:
    q = select(applications).where(applications.c.application_id == application_id, *where)
    return (await conn.execute(q.with_for_update() if lock else q)).first()


def in_scope(principal: Principal) -> list[Any]:
    """What the caller may see: everything, or its own org unit's, division's and own applications."""
    if principal.has_any(*READERS_OF_ALL):
        return []
    c = applications.c
    mine = [c.applicant == principal.subject]
    if "district" in principal.roles and principal.org_unit:
        mine.append(and_(c.org_unit == principal.org_unit, c.division.is_(None)))
    if "division" in principal.roles and principal.division:
        mine.append(c.division == principal.division)
    return [or_(*mine)]


async def visible_row(conn: AsyncConnection, principal: Principal, application_id: str, *, lock: bool = False
                      ) -> Row[Any]:
    row = await application_row(conn, application_id, *in_scope(principal), lock=lock)
    if row is None:
        raise NotFound(f"no permission application {application_id}")
    return row


@router.get("/permission-applications", response_model=Page[ApplicationOut])
async def list_applications(
    principal: Caller, runtime: RuntimeDep, asked: PagingDep,
    status: Status | None = Query(None, description="`forwarded`: the queue waiting for the province."),
    kind: Kind | None = None,
) -> Page[ApplicationOut]:
    """Applications the caller may see, newest first by (submitted_at, application_id)."""
    c = applications.c
    where = in_scope(principal) + [col == v for col, v in ((c.status, status), (c.kind, kind)) if v is not None]
    async with runtime.engine.connect() as conn:
        rows, next_cursor = await newest_first(conn, select(applications).where(*where), c.submitted_at,
                                               c.application_id, asked.cursor, asked.limit)
    return Page[ApplicationOut](items=[application_out(r) for r in rows], next_cursor=next_cursor)


@router.get("/permission-applications/form", response_class=Response,
            responses={200: {"content": {XLSX: {}}, "description": "附件3 with the applications of a status."}})
async def export_form(principal: Caller, request: Request, runtime: RuntimeDep,
                      status: Status = Query(Status.FORWARDED, description="Default: those reported to the province.")
                      ) -> Response:
    """财政扶贫资金动态监控平台用户权限申请表 (附件3): full ID numbers for callers with the PII permission."""
    c = applications.c
    async with runtime.engine.begin() as conn:
        rows = (await conn.execute(select(applications, id_numbers.c.id_cipher).join(id_numbers)
                                   .where(c.status == status).order_by(c.submitted_at, c.application_id))).all()
        # Every export is on record, and one with full ID numbers above all (第二十八条).
        exported = PermissionFormExported(application_ids=[r.application_id for r in rows], unmasked=principal.pii)
        await runtime.store.create_streams(
            conn, [NewStream(f"permission-form-{uuid4()}", "permission-form", [exported])],
            runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit))
        if principal.pii and rows:
            # Full ID numbers leave in this file: a reveal in the audit trail, in the transaction of the answer.
            await append_entries(conn, [AuditEntry(
                at=clock().now(), actor=principal.subject, org_unit=principal.org_unit,
                client_ip=caller_ip(request.scope, runtime.settings.trusted_proxies),
                action=REVEAL, target=f"附件3 ({status.value}): {len(rows)} persons", outcome="shown",
                trace_id=current_trace_id())])
    personal = PersonalData.from_settings(runtime.settings)
    table = [form_row(n, Kind(r.kind), form, personal.decrypt(r.id_cipher) if principal.pii else form.id_masked)
             for n, r in enumerate(rows, start=1) for form in [PermissionForm.model_validate(r.form)]]
    content = await asyncio.to_thread(seed_form, FORM_TITLE, FORM_HEADERS, table, [])
    return xlsx_download(content, f"permission-form-{status.value}", "用户权限申请表")


@router.get("/permission-applications/{application_id}", response_model=ApplicationDetail)
async def get_application(application_id: str, principal: Caller, runtime: RuntimeDep) -> ApplicationDetail:
    """One application with every step it took and the account changes it made."""
    ev = runtime.tables.events
    async with runtime.engine.connect() as conn:
        row = await visible_row(conn, principal, application_id)
        steps = (await conn.execute(select(ev).where(or_(
            ev.c.stream_id == stream_of(application_id),
            # The account's steps this application made: in the person's own stream, found by its index.
            and_(ev.c.stream_id == f"user-{row.username}", ev.c.payload["application_id"].astext == application_id)))
            .order_by(ev.c.position))).all()
    history = [HistoryEntry(event_type=s.event_type, occurred_at=s.occurred_at, actor=s.metadata["actor"],
                            payload=s.payload) for s in steps]
    return ApplicationDetail(**application_out(row).model_dump(), history=history)


@router.post("/permission-applications/{application_id}/resubmission", response_model=ApplicationOut)
async def resubmit(application_id: str, body: ApplicationForm, principal: Caller,
                   runtime: RuntimeDep) -> ApplicationOut:
    """The applicant corrects a returned application and hands it in again (the whole form)."""
    async with runtime.engine.begin() as conn:
        row = await visible_row(conn, principal, application_id, lock=True)
        kind = Kind(row.kind)
        next_status(Status(row.status), Step.RESUBMIT, kind)
        if row.applicant != principal.subject and not may_apply(principal, row.org_unit, row.division):
            raise Forbidden("only the applicant's org unit or division corrects an application")
        form = await _checked(conn, principal, kind, body, application_id)
        await append_step(conn, runtime, principal, application_id, row.version,
                          PermissionApplicationResubmitted(application_id=application_id, form=form))
        await _keep_id_number(conn, runtime, application_id, body.id_number)
        return application_out(await application_row(conn, application_id))
