"""The platform's use (第十条(四)) for the treasury and the information center: per org unit and division, from the
audit trail and the accounts, with the overdue items the district statistics count; and the treasury's monthly
circular built from it, as JSON and as a workbook."""

from datetime import datetime

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, or_, select

from backbone.clock import clock
from backbone.identity import Principal
from backbone.months import Month, MonthQuery, month_asked
from backbone.service import Runtime, RuntimeDep
from backbone.workbooks import XLSX
from gateway.audit.trail import audit_log
from gateway.auth import Caller
from gateway.projections import users
from gateway.routing import ask_as
from gateway.usage.domain import Circular, Entries, Overdue, Person, UsageRow, circular, usage_rows
from gateway.usage.workbook import circular_workbook

router = APIRouter(prefix="/api/v1", tags=["platform use"])


class UsageRowOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    org_unit: str
    org_unit_name: str
    division: str | None
    division_name: str | None
    people: int = Field(description="People whose account was not revoked before the month.")
    active_people: int = Field(description="Those who signed in or did a piece of work.")
    sign_ins: int
    actions: int = Field(description="Writes that succeeded (registering, paying, handling alerts …), other than "
                                     "signing in and keeping one's own account.")
    overdue_items: int = Field(description="Alert steps left overdue: the district's, or the division's own "
                                           "(the district statistics' overdue steps).")


class UsageOut(BaseModel):
    month: str
    as_of: datetime = Field(description="The cut-off: the month's end, or now while the month runs.")
    units: list[UsageRowOut] = Field(description="Each org unit and division with people, in code order.")


class CircularOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    month: str
    title: str
    recipients: list[str] = Field(description="局脱贫办 and the divisions (第十条(四)), and the districts.")
    summary: str
    not_used: list[str] = Field(description="Units where nobody used the platform in the month.")
    with_overdue: list[str] = Field(description="Units with overdue items, and how many.")
    rows: list[UsageRowOut]


async def _people(runtime: Runtime, month: Month, until: datetime) -> tuple[list[Person], list[Entries]]:
    """The people whose account was not revoked before the month, and their audit entries of the month grouped by
    action and outcome."""
    u, a = users, audit_log
    async with runtime.engine.connect() as conn:
        people = [Person(r.username, r.org_unit, r.division) for r in await conn.execute(
            select(u.c.username, u.c.org_unit, u.c.division).where(
                or_(u.c.revoked_at.is_(None), u.c.revoked_at >= month.start), u.c.org_unit.isnot(None)))]
        entries = [Entries(r.actor, r.action, r.outcome, r.count) for r in await conn.execute(
            select(a.c.actor, a.c.action, a.c.outcome, func.count().label("count"))
            .where(a.c.at >= month.start, a.c.at < until, a.c.actor.in_(select(u.c.username)))
            .group_by(a.c.actor, a.c.action, a.c.outcome))]
    return people, entries


async def _overdue(request: Request, runtime: Runtime, principal: Principal, month: Month) -> Overdue:
    """The overdue steps the district statistics count, asked of sync as the caller."""
    stats = await ask_as(request.app.state.http, runtime.settings, principal, "sync", "/districts/statistics",
                         {"month": str(month)})
    return Overdue(by_org_unit={d["org_unit"]: d["overdue_steps"] for d in stats["districts"]},
                   by_division={d["division"]: d["overdue_steps"] for d in stats["divisions"]})


async def usage(request: Request, runtime: Runtime, principal: Principal, text: str) -> tuple[Month, datetime,
                                                                                             list[UsageRow]]:
    now = clock().now()
    month = month_asked(text, now)
    until = min(month.end, now)
    people, entries = await _people(runtime, month, until)
    return month, until, usage_rows(people, entries, await _overdue(request, runtime, principal, month))


@router.get("/usage", response_model=UsageOut)
async def platform_use(request: Request, principal: Caller, runtime: RuntimeDep, month: MonthQuery) -> UsageOut:
    """Per org unit and division (第十条(四)): people with an account, active people, sign-ins, writes and overdue
    items in the month."""
    asked, until, rows = await usage(request, runtime, principal, month)
    return UsageOut(month=str(asked), as_of=until, units=[UsageRowOut.model_validate(r) for r in rows])


async def _circular(request: Request, runtime: Runtime, principal: Principal, month: str) -> Circular:
    asked, _, rows = await usage(request, runtime, principal, month)
    return circular(str(asked), rows)


@router.get("/usage/circular", response_model=CircularOut)
async def usage_circular(request: Request, principal: Caller, runtime: RuntimeDep, month: MonthQuery) -> CircularOut:
    """国库处's monthly circular on the platform's use (第十条(四)), to the poverty office and the divisions."""
    return CircularOut.model_validate(await _circular(request, runtime, principal, month))


@router.get("/usage/circular/workbook", response_class=Response,
            responses={200: {"content": {XLSX: {}}, "description": "The circular, printable."}})
async def usage_circular_workbook(request: Request, principal: Caller, runtime: RuntimeDep,
                                  month: MonthQuery) -> Response:
    """The circular as a printable workbook."""
    return circular_workbook(await _circular(request, runtime, principal, month))
