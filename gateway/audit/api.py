"""The audit trail's routes: search for the administrator and the supervision bureau (监督局), and
the verification of the hash chain for administrators."""

from dataclasses import asdict
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy import select

from backbone.pages import Page, PagingDep
from backbone.paging import newest_first
from backbone.service import RuntimeDep
from gateway.audit.trail import audit_log, verify_stored

router = APIRouter(prefix="/api/v1", tags=["audit"])


class AuditEntryOut(BaseModel):
    seq: int = Field(description="Position in the chain, from 1, without gaps.")
    at: datetime
    actor: str = Field(description="User name or machine account; for a sign-in the name tried if it is an "
                                   "account's, else `(unknown user name)`; `anonymous`.")
    org_unit: str | None
    client_ip: str | None = Field(description="The caller's address (none for reads reported by a service).")
    action: str = Field(description="`METHOD /api/v1/…` (the endpoint as the access table names it), or "
                                    "`auth.login`, `auth.login_failed`, `personal_data.reveal`.")
    target: str = Field(description="The path with its query; for a read of personal data the masked ID number, "
                                    "or `附件3 (status): N persons` for the permission form with full numbers.")
    outcome: str = Field(description="The HTTP status; for a read of personal data `found` / `not_found`, or "
                                     "`shown` for the permission form.")
    trace_id: str | None = Field(description="W3C trace id of the request.")
    hash: str


@router.get("/audit", response_model=Page[AuditEntryOut])
async def search_audit(
    runtime: RuntimeDep,
    asked: PagingDep,
    actor: str | None = Query(None, description="User name or machine account, exact."),
    action: str | None = Query(None, description="Beginning of the action, e.g. `POST /api/v1/indicators`, `auth.`."),
    target: str | None = Query(None, description="Part of the target."),
    since: AwareDatetime | None = Query(None, description="At or after this instant."),
    until: AwareDatetime | None = Query(None, description="Before this instant."),
) -> Page[AuditEntryOut]:
    """The audit trail (第二十八条), newest first by (at, seq): who did what, to what, from where, with what
    outcome."""
    c = audit_log.c
    wanted = [(actor, lambda v: c.actor == v), (action, lambda v: c.action.startswith(v, autoescape=True)),
              (target, lambda v: c.target.contains(v, autoescape=True)), (since, lambda v: c.at >= v),
              (until, lambda v: c.at < v)]
    where = [condition(value) for value, condition in wanted if value is not None]
    async with runtime.engine.connect() as conn:
        rows, next_cursor = await newest_first(conn, select(audit_log).where(*where), c.at, c.seq, asked.cursor,
                                               asked.limit, integer_key=True)
    return Page[AuditEntryOut](items=[AuditEntryOut.model_validate(dict(r._mapping)) for r in rows],
                               next_cursor=next_cursor)


class BrokenEntry(BaseModel):
    seq: int
    at: datetime
    action: str
    problem: Literal["content", "link"] = Field(description="`content`: a field was altered; `link`: an entry "
                                                            "before it was removed, inserted or moved.")


class Verification(BaseModel):
    intact: bool
    entries: int = Field(description="Entries that hold, from the first.")
    first: int | None = Field(description="The first entry kept: 1 unless entries past retention were pruned.")
    head: str = Field(description="Hash of the last entry that holds; note it elsewhere to detect a cut-off end.")
    broken: BrokenEntry | None = Field(description="The first entry that does not hold.")
    message: str


@router.get("/audit/verification", response_model=Verification)
async def verify_audit(runtime: RuntimeDep) -> Verification:
    """Recompute the whole hash chain (as `python -m gateway.audit verify` does)."""
    verdict = await verify_stored(runtime.engine)
    return Verification(intact=verdict.intact, entries=verdict.entries, first=verdict.first, head=verdict.head,
                        message=verdict.message(), broken=BrokenEntry(**asdict(verdict.broken)) if verdict.broken else None)
