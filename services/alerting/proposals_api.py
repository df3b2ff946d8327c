"""The yearly rule cycle (第十六条) after a rule is proposed: the proposals (附件2) and the treasury division's
review, approval into force, and the year's submission to the province. A rule is proposed through POST /rules
(rules_api.py), a business requirement (附件1) through requirements_api.py; the two forms are exported in
export.py."""

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select

from backbone.errors import NotFound
from backbone.identity import CurrentPrincipal
from backbone.pages import Page, PagingDep
from backbone.paging import newest_first
from backbone.service import RuntimeDep
from contracts.alerting import RuleApproved, RuleProposalReviewed, RuleProposalsSubmitted
from contracts.values import FiscalYear
from services.alerting.projections import requirements, rule_proposals
from services.alerting.rules.book import RULEBOOK
from services.alerting.rules.proposals import ProposalStep, decide

router = APIRouter(prefix="/api/v1", tags=["rules"])


class ProposalOut(BaseModel):
    proposal_id: str
    fiscal_year: int
    rule_id: str
    number: str
    name: str
    status: str
    definition: dict[str, Any]
    proposed_by: str
    proposer_division: str | None
    proposed_at: datetime
    reviewed_by: str | None
    review_reason: str | None
    decided_at: datetime | None


def cycle_of(fiscal_year: int, division: str | None) -> str | None:
    """The proposing division's part of the yearly cycle (what LC-002's clock waits for)."""
    return f"{fiscal_year}-{division}" if division else None


async def read_proposal(conn: Any, proposal_id: str) -> ProposalOut:
    row = (await conn.execute(select(rule_proposals).where(rule_proposals.c.proposal_id == proposal_id))).first()
    if row is None:
        raise NotFound(f"no rule proposal {proposal_id}")
    return _proposal_out(row)


def _proposal_out(row: Any) -> ProposalOut:
    return ProposalOut(**{k: v for k, v in row._mapping.items() if k in ProposalOut.model_fields})


@router.get("/rule-proposals", response_model=Page[ProposalOut])
async def list_proposals(runtime: RuntimeDep, principal: CurrentPrincipal, asked: PagingDep,
                         fiscal_year: FiscalYear | None = None, status: str | None = None) -> Page[ProposalOut]:
    """Rule proposals (附件2), newest first by (proposed_at, proposal_id)."""
    q = select(rule_proposals)
    if fiscal_year:
        q = q.where(rule_proposals.c.fiscal_year == fiscal_year)
    if status:
        q = q.where(rule_proposals.c.status == status)
    async with runtime.engine.connect() as conn:
        rows, next_cursor = await newest_first(conn, q, rule_proposals.c.proposed_at, rule_proposals.c.proposal_id,
                                               asked.cursor, asked.limit)
    return Page[ProposalOut](items=[_proposal_out(r) for r in rows], next_cursor=next_cursor)


class ReviewIn(BaseModel):
    decision: Literal["accepted", "rejected"]
    reason: str = Field(min_length=1, max_length=2000)


@router.post("/rule-proposals/{proposal_id}/review", response_model=ProposalOut)
async def review_proposal(proposal_id: str, body: ReviewIn, principal: CurrentPrincipal,
                          runtime: RuntimeDep) -> ProposalOut:
    """The treasury division consolidates a proposal into the city's list, or turns it down (第十六条)."""
    step = ProposalStep.ACCEPT if body.decision == "accepted" else ProposalStep.REJECT
    return await _step(runtime, principal, proposal_id, step,
                       RuleProposalReviewed(proposal_id=proposal_id, decision=body.decision, reason=body.reason))


@router.post("/rule-proposals/{proposal_id}/approval", response_model=ProposalOut)
async def approve_proposal(proposal_id: str, principal: CurrentPrincipal, runtime: RuntimeDep) -> ProposalOut:
    """An accepted rule goes into force from the start of its fiscal year."""
    async with runtime.engine.connect() as conn:
        current = await read_proposal(conn, proposal_id)
    out = await _step(runtime, principal, proposal_id, ProposalStep.APPROVE,
                      RuleApproved(proposal_id=proposal_id, rule_id=current.rule_id, fiscal_year=current.fiscal_year))
    await RULEBOOK.refresh(runtime.engine)
    return out


async def _step(runtime: Any, principal: Any, proposal_id: str, step: ProposalStep, event: Any) -> ProposalOut:
    async with runtime.engine.begin() as conn:
        current = await read_proposal(conn, proposal_id)
        decide(proposal_id, current.status, step)
        version = await runtime.store.version(conn, f"rule-proposal-{proposal_id}")
        await runtime.store.append(conn, stream_id=f"rule-proposal-{proposal_id}", stream_type="rule-proposal",
                                   expected_version=version, events=[event],
                                   meta=runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit))
        return await read_proposal(conn, proposal_id)


class SubmissionIn(BaseModel):
    fiscal_year: FiscalYear


class SubmissionOut(BaseModel):
    fiscal_year: int
    proposal_ids: list[str] = Field(description="The accepted and approved rule proposals reported.")
    requirement_ids: list[str]


@router.post("/rule-proposals/submission", status_code=201, response_model=SubmissionOut)
async def submit_to_province(body: SubmissionIn, principal: CurrentPrincipal, runtime: RuntimeDep) -> SubmissionOut:
    """The treasury division reports the year's consolidated requirements and rules to the province (第十六条)."""
    async with runtime.engine.begin() as conn:
        proposals = (await conn.execute(select(rule_proposals.c.proposal_id, rule_proposals.c.definition).where(
            rule_proposals.c.fiscal_year == body.fiscal_year,
            rule_proposals.c.status.in_(("accepted", "approved"))))).all()
        # A district's proposal reaches the province through the division it went to, as that division's own.
        wanted = (await conn.execute(select(requirements).where(requirements.c.fiscal_year == body.fiscal_year,
                                                                requirements.c.proposer_org_unit.is_(None)))).all()
        proposal_ids = [p.proposal_id for p in proposals]
        requirement_ids = [r.requirement_id for r in wanted]
        # The rules and requirements themselves go with the event: sync sends them to the province (第十六条).
        event = RuleProposalsSubmitted(
            cycle_id=f"{body.fiscal_year}-treasury", fiscal_year=body.fiscal_year, proposal_ids=proposal_ids,
            requirement_ids=requirement_ids, rules=[p.definition for p in proposals],
            requirements=[{"kind": r.kind, "description": r.description, "basis": r.basis, "scope": list(r.scope),
                           "proposer_division": r.proposer_division} for r in wanted])
        version = await runtime.store.version(conn, f"rule-submission-{body.fiscal_year}")
        await runtime.store.append(conn, stream_id=f"rule-submission-{body.fiscal_year}",
                                   stream_type="rule-submission", expected_version=version, events=[event],
                                   meta=runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit))
    return SubmissionOut(fiscal_year=body.fiscal_year, proposal_ids=proposal_ids, requirement_ids=requirement_ids)
