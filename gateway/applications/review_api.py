"""The treasury division's review of an application and the province's answer (第二十五条(二)); an approval
opens, changes or revokes the account in the same transaction."""

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

import structlog

from backbone.access import PROVINCE_SYSTEM, TREASURY
from backbone.errors import ConcurrencyConflict, InvalidInput, fault
from backbone.identity import Principal
from backbone.service import Runtime, RuntimeDep
from contracts.envelope import DomainEvent
from contracts.gateway import (ApiKeyIssued, PermissionApplicationDecided, PermissionApplicationForwarded,
                               PermissionApplicationReturned, PermissionForm)
from gateway.accounts.credentials import append_to_person, end_sessions
from gateway.applications.api import (ApplicationOut, append_step, application_out, application_row,
                                      visible_row)
from gateway.applications.domain import (Kind, Status, Step, account_event, bootstrap_may_review,
                                         check_independent, next_status)
from gateway.applications.projections import stream_of
from gateway.auth import Caller
from gateway.projections import users

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/api/v1", tags=["permission applications"])


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["accepted", "returned"] = Field(description="accepted: reported to the province.")
    reason: str | None = Field(None, min_length=1, max_length=2000, description="Required when returned.")


@router.post("/permission-applications/{application_id}/review", response_model=ApplicationOut)
async def review(application_id: str, body: ReviewIn, principal: Caller, runtime: RuntimeDep) -> ApplicationOut:
    """The treasury division accepts an application and reports it to the province, or sends it back."""
    if body.decision == "returned" and not body.reason:
        raise InvalidInput("say why it goes back", errors=[fault("reason", "required when returned")])
    async with runtime.engine.begin() as conn:
        row = await visible_row(conn, principal, application_id, lock=True)
        form = PermissionForm.model_validate(row.form)
        bootstrap = runtime.settings.admin_user
        may = bootstrap_may_review(form.roles, form.pii, treasury_staff=await _treasury_staff(conn, bootstrap))
        check_independent(principal.subject, applicant=row.applicant, username=row.username,
                          bootstrap=bootstrap if may else None)
        kind = Kind(row.kind)
        if body.decision == "accepted":
            next_status(Status(row.status), Step.ACCEPT, kind)
            event: DomainEvent = PermissionApplicationForwarded(application_id=application_id, kind=kind, form=form)
        else:
            next_status(Status(row.status), Step.RETURN, kind)
            event = PermissionApplicationReturned(application_id=application_id, reason=body.reason or "")
        await append_step(conn, runtime, principal, application_id, row.version, event)
        return application_out(await application_row(conn, application_id))


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approved", "rejected"]
    remarks: str | None = Field(None, max_length=2000)


@router.post("/permission-applications/{application_id}/feedback", response_model=ApplicationOut)
async def feedback(application_id: str, body: FeedbackIn, principal: Caller, request: Request,
                   runtime: RuntimeDep) -> ApplicationOut:
    """The province's answer, from its platform or recorded from paper by the treasury division; an approval
    opens, changes or revokes the account in the same transaction."""
    async with runtime.engine.begin() as conn:
        row = await visible_row(conn, principal, application_id, lock=True)
        kind = Kind(row.kind)
        channel = "platform" if principal.has_any(PROVINCE_SYSTEM) else "paper"
        reviewer = await _reviewer(conn, runtime, application_id)
        if channel == "paper":
            # Whoever records the province's paper answer made, reviewed and is the subject of none of it.
            check_independent(principal.subject, applicant=row.applicant, username=row.username, reviewer=reviewer)
        else:
            # A platform key is only as independent as the administrator who issued it: one who made or
            # reviewed the application could otherwise answer for the province with a key of their own. The
            # key the deployment configured (FUNDWATCH_PROVINCE_API_KEY) was issued by nobody here.
            issuer = await key_issuer(conn, runtime, request.state.api_key_id)
            if issuer is not None:
                check_independent(issuer, applicant=row.applicant, username=row.username, reviewer=reviewer)
        out = await decide(conn, runtime, principal, row, body.decision, body.remarks, channel)
    if body.decision == "approved" and kind is not Kind.GRANT:
        request.app.state.authenticate.forget_sessions(out.username)
    return out


async def decide(conn: AsyncConnection, runtime: Runtime, principal: Principal, row: Any, decision: str,
                 remarks: str | None, channel: str) -> ApplicationOut:
    """Record the province's answer on a forwarded application (its row locked by the caller); an approval opens,
    changes or revokes the account in the same transaction. The feedback route and the province's message
    (exchange) both come here."""
    next_status(Status(row.status), Step.APPROVE if decision == "approved" else Step.REJECT, Kind(row.kind))
    await append_step(conn, runtime, principal, row.application_id, row.version, PermissionApplicationDecided(
        application_id=row.application_id, decision=decision, remarks=remarks, channel=channel))
    if decision == "approved":
        await _take_effect(conn, runtime, principal, Kind(row.kind), row.application_id,
                           PermissionForm.model_validate(row.form))
    log.info("applications.decided", application_id=row.application_id, decision=decision, channel=channel)
    return application_out(await application_row(conn, row.application_id))


async def _reviewer(conn: AsyncConnection, runtime: Runtime, application_id: str) -> str | None:
    ev = runtime.tables.events
    return await conn.scalar(
        select(ev.c.metadata["actor"].astext).where(
            ev.c.stream_id == stream_of(application_id),
            ev.c.event_type == PermissionApplicationForwarded.event_type)
        .order_by(ev.c.version.desc()).limit(1))


async def _treasury_staff(conn: AsyncConnection, bootstrap: str) -> bool:
    """Whether a treasury person (国库科, who reviews applications) other than the bootstrap administrator holds
    an account: from then on the bootstrap administrator's applications are reviewed like anyone's."""
    found = await conn.scalar(select(users.c.username).where(
        users.c.roles.any(TREASURY), users.c.revoked_at.is_(None), users.c.username != bootstrap).limit(1))
    return found is not None


async def key_issuer(conn: AsyncConnection, runtime: Runtime, key_id: str | None) -> str | None:
    """The administrator who issued (or rotated into being) an API key; None for the key configured by the
    deployment, which no administrator issued."""
    ev = runtime.tables.events
    return await conn.scalar(select(ev.c.metadata["actor"].astext).where(
        ev.c.stream_id == f"api-key-{key_id}", ev.c.event_type == ApiKeyIssued.event_type).limit(1))


async def _take_effect(conn: AsyncConnection, runtime: Runtime, principal: Principal, kind: Kind,
                       application_id: str, form: PermissionForm) -> None:
    """The account as the approved application says (第二十五条(二))."""
    account = (await conn.execute(select(users).where(users.c.username == form.username).with_for_update())).first()
    active = account is not None and account.revoked_at is None
    if (kind is Kind.GRANT and account is not None) or (kind is not Kind.GRANT and not active):
        raise ConcurrencyConflict(f"the account {form.username} changed since the application was made")
    await append_to_person(conn, runtime.store, form.username, account_event(kind, application_id, form),
                           actor=principal.subject, org_unit=principal.org_unit)
    if kind is not Kind.GRANT:
        # Tokens carry the roles they were issued with: a changed or revoked account signs in afresh.
        await end_sessions(conn, form.username, "account_changed" if kind is Kind.CHANGE else "account_revoked")
