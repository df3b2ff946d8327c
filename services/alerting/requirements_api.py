"""Business requirements for a coming fiscal year (附件1, 第十五条): the divisions propose them, and the districts take
part before 10-15: a district proposes a requirement to a division and comments on the divisions' requirements
(rules/opinions.py decides until when). The form is exported in export.py; the year's report in proposals_api.py."""

from datetime import datetime
from typing import Any, Literal
from uuid import uuid4

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.clock import clock
from backbone.errors import InvalidInput, NotFound, fault
from backbone.eventstore import NewStream
from backbone.identity import CurrentPrincipal, Principal
from backbone.pages import Page, PagingDep
from backbone.paging import newest_first
from backbone.service import RuntimeDep
from contracts.alerting import RequirementCommented, RequirementProposed
from contracts.values import ORG_UNITS, DivisionCode, FiscalYear
from services.alerting.projections import requirement_comments, requirements
from services.alerting.proposals_api import cycle_of
from services.alerting.rules.opinions import check_open

router = APIRouter(prefix="/api/v1", tags=["rules"])
Kind = Literal["预算分配下达", "资金支付", "绩效管理", "其他"]


class RequirementIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    fiscal_year: FiscalYear
    kind: Kind = Field(description="业务需求类型")
    description: str = Field(min_length=1, max_length=4000, description="业务需求描述")
    basis: str = Field(min_length=1, max_length=2000, description="依据")
    scope: list[str] = Field(min_length=1, description="适用范围: org unit codes, * for all")
    contact: str | None = Field(None, max_length=40)
    to_division: DivisionCode | None = Field(None, description="A district's proposal: the division it goes to "
                                                               "(required of a district, by 10-15).")


class CommentOut(BaseModel):
    comment_id: str
    org_unit: str
    text: str
    commented_by: str
    commented_at: datetime


class RequirementOut(BaseModel):
    requirement_id: str
    fiscal_year: int
    kind: str
    description: str
    basis: str
    scope: list[str]
    contact: str | None
    proposed_by: str
    proposer_division: str | None
    proposer_org_unit: str | None = Field(description="The district that proposed it to `to_division`.")
    to_division: str | None
    proposed_at: datetime
    comments: list[CommentOut] = Field(default_factory=list, description="The districts' comments (意见).")


def _visible(principal: Principal) -> list[Any]:
    """Everyone sees the divisions' requirements; a district's proposal is seen by that district, the division it
    went to and the citywide offices."""
    if principal.citywide:
        return []
    r = requirements.c
    mine = [r.proposer_org_unit.is_(None)]
    if "district" in principal.roles and principal.org_unit:
        mine.append(r.proposer_org_unit == principal.org_unit)
    if "division" in principal.roles and principal.division:
        mine.append(r.to_division == principal.division)
    return [or_(*mine)]


async def _requirement(conn: AsyncConnection, principal: Principal, requirement_id: str) -> RequirementOut:
    row = (await conn.execute(select(requirements).where(requirements.c.requirement_id == requirement_id,
                                                         *_visible(principal)))).first()
    if row is None:
        raise NotFound(f"no requirement {requirement_id}")
    comments = await conn.execute(select(requirement_comments).where(
        requirement_comments.c.requirement_id == requirement_id).order_by(requirement_comments.c.commented_at))
    return RequirementOut(**row._mapping, comments=[CommentOut(**c._mapping) for c in comments])


@router.post("/requirements", status_code=201)
async def propose_requirement(body: RequirementIn, principal: CurrentPrincipal, runtime: RuntimeDep) -> dict[str, str]:
    """A business requirement for the platform for a coming fiscal year (附件1); a district's goes to a division,
    by 10-15 of the year before."""
    unknown = [u for u in body.scope if u != "*" and u not in ORG_UNITS]
    if unknown:
        raise InvalidInput("unknown org units", errors=[fault("scope", f"unknown: {unknown}")])
    district = "district" in principal.roles and not principal.division
    if district:
        if body.to_division is None:
            raise InvalidInput("a district proposes to a division", errors=[fault("to_division", "required")])
        check_open(body.fiscal_year, clock().today())
    elif body.to_division is not None:
        raise InvalidInput("only a district proposes to a division", errors=[
            fault("to_division", "for a district's proposal")])
    requirement_id = str(uuid4())
    fields = body.model_dump(exclude={"to_division"})
    event = RequirementProposed(
        requirement_id=requirement_id, **fields, proposer_division=None if district else principal.division,
        cycle_id=None if district else cycle_of(body.fiscal_year, principal.division),
        proposer_org_unit=principal.org_unit if district else None, to_division=body.to_division if district else None)
    async with runtime.engine.begin() as conn:
        await runtime.store.create_streams(conn, [NewStream(f"requirement-{requirement_id}", "requirement", [event])],
                                           runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit))
    return {"requirement_id": requirement_id}


@router.get("/requirements", response_model=Page[RequirementOut])
async def list_requirements(principal: CurrentPrincipal, runtime: RuntimeDep, asked: PagingDep,
                            fiscal_year: FiscalYear | None = None, division: DivisionCode | None = None
                            ) -> Page[RequirementOut]:
    """Business requirements (附件1) the caller may see, newest first by (proposed_at, requirement_id); `division`:
    a division's own and those proposed to it. Comments are in each requirement's detail."""
    q = select(requirements).where(*_visible(principal))
    if fiscal_year:
        q = q.where(requirements.c.fiscal_year == fiscal_year)
    if division:
        q = q.where(or_(requirements.c.proposer_division == division, requirements.c.to_division == division))
    async with runtime.engine.connect() as conn:
        rows, next_cursor = await newest_first(conn, q, requirements.c.proposed_at, requirements.c.requirement_id,
                                               asked.cursor, asked.limit)
    return Page[RequirementOut](items=[RequirementOut(**r._mapping) for r in rows], next_cursor=next_cursor)


@router.get("/requirements/{requirement_id}", response_model=RequirementOut)
async def get_requirement(requirement_id: str, principal: CurrentPrincipal, runtime: RuntimeDep) -> RequirementOut:
    """A requirement with the districts' comments, oldest first."""
    async with runtime.engine.connect() as conn:
        return await _requirement(conn, principal, requirement_id)


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str = Field(min_length=1, max_length=4000, description="意见")


@router.post("/requirements/{requirement_id}/comments", status_code=201, response_model=RequirementOut)
async def comment(requirement_id: str, body: CommentIn, principal: CurrentPrincipal,
                  runtime: RuntimeDep) -> RequirementOut:
    """A district's comment on a division's requirement (征求区财政部门意见, 第十五条), by 10-15 of the year before."""
    async with runtime.engine.begin() as conn:
        found = await _requirement(conn, principal, requirement_id)
        if found.proposer_division is None:
            raise InvalidInput("districts comment on the divisions' requirements",
                               errors=[fault("requirement_id", "not a division's requirement")])
        check_open(found.fiscal_year, clock().today())
        event = RequirementCommented(comment_id=str(uuid4()), requirement_id=requirement_id,
                                     fiscal_year=found.fiscal_year, org_unit=principal.org_unit or "",
                                     to_division=found.proposer_division, text=body.text)
        await runtime.store.append(conn, stream_id=f"requirement-{requirement_id}", stream_type="requirement",
                                   expected_version=await runtime.store.version(conn, f"requirement-{requirement_id}"),
                                   events=[event],
                                   meta=runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit))
        return await _requirement(conn, principal, requirement_id)
