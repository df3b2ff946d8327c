"""People's accounts: the password of a granted account, issued once (第二十五条(二)), and the list of users."""

import asyncio
from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

import structlog

from backbone.errors import ConcurrencyConflict, NotFound
from backbone.pages import Page, PagingDep
from backbone.paging import newest_first
from backbone.service import RuntimeDep
from contracts.gateway import InitialPasswordIssued
from gateway.accounts.credentials import append_to_person
from gateway.accounts.passwords import one_time_password, password_hash
from gateway.applications.domain import Kind, Status, Step, next_status
from gateway.applications.api import application_row
from gateway.auth import Caller
from gateway.projections import credentials, users

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/api/v1", tags=["users"])


class IssueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    application_id: str = Field(description="An approved application to open an account (开通).")


class IssuedAccount(BaseModel):
    username: str
    application_id: str
    initial_password: str = Field(description="Shown this once; to be changed at the first sign-in.")
    must_change: bool = True


@router.post("/users", status_code=201, response_model=IssuedAccount)
async def issue_account(body: IssueIn, principal: Caller,
                        runtime: RuntimeDep) -> IssuedAccount:
    """Give the person of an approved grant a one-time password, to pass on to the applicant (告知)."""
    password = one_time_password()
    # argon2 is deliberately slow: off the event loop.
    hashed = await asyncio.to_thread(password_hash.hash, password)
    async with runtime.engine.begin() as conn:
        row = await application_row(conn, body.application_id, lock=True)
        if row is None:
            raise NotFound(f"no permission application {body.application_id}")
        next_status(Status(row.status), Step.ISSUE, Kind(row.kind))
        stored = await conn.execute(insert(credentials).values(
            username=row.username, password_hash=hashed, changed_at=datetime.now(UTC), must_change=True,
        ).on_conflict_do_nothing().returning(credentials.c.username))
        if stored.first() is None:
            raise ConcurrencyConflict(f"{row.username} has a password already")
        await append_to_person(conn, runtime.store, row.username,
                               InitialPasswordIssued(username=row.username, application_id=body.application_id),
                               actor=principal.subject, org_unit=principal.org_unit)
    log.info("users.initial_password_issued", username=row.username, application_id=body.application_id)
    return IssuedAccount(username=row.username, application_id=body.application_id, initial_password=password)


class UserOut(BaseModel):
    username: str
    display_name: str
    org_unit: str
    division: str | None
    roles: list[str]
    pii: bool = Field(description="May see unmasked ID numbers.")
    status: Literal["active", "awaiting_password", "revoked"]
    created_at: datetime
    revoked_at: datetime | None


@router.get("/users", response_model=Page[UserOut])
async def list_users(_: Caller, runtime: RuntimeDep, asked: PagingDep) -> Page[UserOut]:
    """Every person with an account, newest first by (created_at, username); never their credentials."""
    has_password = credentials.c.username.is_not(None).label("has_password")
    async with runtime.engine.connect() as conn:
        rows, next_cursor = await newest_first(
            conn, select(users, has_password).outerjoin(credentials, credentials.c.username == users.c.username),
            users.c.created_at, users.c.username, asked.cursor, asked.limit)
    return Page[UserOut](items=[
        UserOut(**{k: v for k, v in r._mapping.items() if k in UserOut.model_fields},
                status="revoked" if r.revoked_at else "active" if r.has_password else "awaiting_password")
        for r in rows], next_cursor=next_cursor)
