"""Rule management (第十五条, 第十六条, 第二十条): the rules in force, the yearly proposals (附件2) and business
requirements (附件1) with their review, and backtests. Their XLSX forms are in export.py."""

import asyncio
from collections import Counter
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Literal
from uuid import uuid4

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import func, select

from backbone.clock import clock
from backbone.errors import InvalidInput, NotFound, field_errors
from backbone.eventstore import NewStream
from backbone.identity import CurrentPrincipal
from backbone.limited import LimitBroken, LimitedWorker
from backbone.pages import Page, PagingDep, sorted_page
from backbone.paging import newest_first
from backbone.service import RuntimeDep
from backbone.workdays import SHANGHAI
from contracts.alerting import (RequirementProposed, RuleApproved, RuleProposalReviewed, RuleProposalsSubmitted,
                               RuleProposed)
from contracts.ledger import IndicatorRegistered
from contracts.payments import PaymentRecorded
from contracts.values import ORG_UNITS, FiscalYear
from services.alerting.projections import (alerts, balances, dispositions, observed_payments, requirements,
                                           rule_proposals, window_facts)
from services.alerting.rules import Rule, starter_rules
from services.alerting.rules.book import RULEBOOK
from services.alerting.rules.proposals import ProposalStep, decide
from services.alerting.rules.engine import (Case, IndicatorBalance, in_window, indicator_facts, judge_cases,
                                            payment_facts)
from services.alerting.rules.expressions import ExpressionError

router = APIRouter(prefix="/api/v1", tags=["rules"])


class Precision(BaseModel):
    """How a rule's yellow lights ended: verified normal (a false alarm) or confirmed as violations."""

    verified_normal: int
    confirmed: int
    precision: Decimal | None = Field(description="confirmed / (confirmed + verified normal); null before any.")


class RuleOut(BaseModel):
    rule: dict[str, Any]
    source: Literal["starter", "local"] = Field(description="Shipped with FundWatch, or approved locally.")
    precision: Precision


@router.get("/rules", response_model=Page[RuleOut])
async def list_rules(runtime: RuntimeDep, principal: CurrentPrincipal, asked: PagingDep,
                     fiscal_year: FiscalYear | None = Query(None, description="Default: this year.")) -> Page[RuleOut]:
    """The rules in force for a fiscal year, each with its precision from past verifications. In the order of
    their numbers (DR-001 … ZC-008), not newest first: a rule in force has no date of its own (a starter rule is as
    old as the release), and people look rules up by number. The cursor is the last rule's (number, id)."""
    rules, next_cursor = sorted_page(RULEBOOK.for_year(fiscal_year), lambda r: (r.number, r.id), asked)
    precision = await _precision(runtime)
    starter = starter_rules()
    return Page[RuleOut](items=[
        RuleOut(rule=r.model_dump(mode="json"), source="starter" if starter.get(r.id) == r else "local",
                precision=precision.get(r.id, Precision(verified_normal=0, confirmed=0, precision=None)))
        for r in rules], next_cursor=next_cursor)


async def _precision(runtime: Any) -> dict[str, Precision]:
    q = (select(alerts.c.rule_id,
                func.count().filter(dispositions.c.action == "verify_normal"),
                func.count().filter(dispositions.c.action == "confirm_violation"))
         .join(dispositions, dispositions.c.alert_id == alerts.c.alert_id).group_by(alerts.c.rule_id))
    async with runtime.engine.connect() as conn:
        rows = (await conn.execute(q)).all()
    return {rule_id: Precision(verified_normal=normal, confirmed=confirmed,
                               precision=(Decimal(confirmed) / (confirmed + normal)).quantize(Decimal("0.0001"))
                               if confirmed + normal else None)
            for rule_id, normal, confirmed in rows}


class ProposalIn(BaseModel):
    fiscal_year: FiscalYear = Field(description="The fiscal year the rule is for (a coming one).")
    definition: dict[str, Any] = Field(description="The rule as data (the fields of GET /rules).")
    contact: str | None = Field(None, max_length=40, description="联系电话")


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


@router.post("/rules", status_code=201, response_model=ProposalOut)
async def propose_rule(body: ProposalIn, principal: CurrentPrincipal, runtime: RuntimeDep) -> ProposalOut:
    """Propose a rule for a coming fiscal year (附件2); the condition must parse, national levels stay fixed."""
    this_year = clock().today().year
    if body.fiscal_year <= this_year:
        raise InvalidInput("rules are proposed for a coming fiscal year (第十五条)", errors=[
            {"field": "fiscal_year", "message": f"from {this_year + 1} on"}])
    rule = _rule(body.definition)
    national = starter_rules().get(rule.id)
    if national is not None and national.national and (rule.level != national.level or not rule.national):
        raise InvalidInput("the level of a national rule is fixed by the Ministry of Finance (第二十条)", errors=[
            {"field": "definition.level", "message": f"stays {national.level.value}"}])
    proposal_id = str(uuid4())
    event = RuleProposed(proposal_id=proposal_id, fiscal_year=body.fiscal_year,
                         definition=rule.model_dump(mode="json"), proposer_division=principal.division,
                         contact=body.contact, cycle_id=_cycle(body.fiscal_year, principal.division))
    async with runtime.engine.begin() as conn:
        await runtime.store.create_streams(conn, [NewStream(f"rule-proposal-{proposal_id}", "rule-proposal", [event])],
                                           runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit))
        return await _proposal(conn, proposal_id)


def _cycle(fiscal_year: int, division: str | None) -> str | None:
    """The proposing division's part of the yearly cycle (what LC-002's clock waits for)."""
    return f"{fiscal_year}-{division}" if division else None


def _rule(definition: dict[str, Any]) -> Rule:
    try:
        return Rule(**definition)
    except ValidationError as exc:
        errors = field_errors(exc.errors(include_input=False))
        for err in errors:
            err["field"] = f"definition.{err['field']}" if err["field"] else "definition"
        raise InvalidInput("the rule is not valid", errors=errors) from None
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"the rule is not valid: {exc}", errors=[{"field": "definition", "message": str(exc)}]
                           ) from None


async def _proposal(conn: Any, proposal_id: str) -> ProposalOut:
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
        current = await _proposal(conn, proposal_id)
    out = await _step(runtime, principal, proposal_id, ProposalStep.APPROVE,
                      RuleApproved(proposal_id=proposal_id, rule_id=current.rule_id, fiscal_year=current.fiscal_year))
    await RULEBOOK.refresh(runtime.engine)
    return out


async def _step(runtime: Any, principal: Any, proposal_id: str, step: ProposalStep, event: Any) -> ProposalOut:
    async with runtime.engine.begin() as conn:
        current = await _proposal(conn, proposal_id)
        decide(proposal_id, current.status, step)
        version = await runtime.store.version(conn, f"rule-proposal-{proposal_id}")
        await runtime.store.append(conn, stream_id=f"rule-proposal-{proposal_id}", stream_type="rule-proposal",
                                   expected_version=version, events=[event],
                                   meta=runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit))
        return await _proposal(conn, proposal_id)


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
        proposal_ids = list((await conn.execute(select(rule_proposals.c.proposal_id).where(
            rule_proposals.c.fiscal_year == body.fiscal_year,
            rule_proposals.c.status.in_(("accepted", "approved"))))).scalars())
        requirement_ids = list((await conn.execute(select(requirements.c.requirement_id).where(
            requirements.c.fiscal_year == body.fiscal_year))).scalars())
        event = RuleProposalsSubmitted(cycle_id=f"{body.fiscal_year}-treasury", fiscal_year=body.fiscal_year,
                                       proposal_ids=proposal_ids, requirement_ids=requirement_ids)
        version = await runtime.store.version(conn, f"rule-submission-{body.fiscal_year}")
        await runtime.store.append(conn, stream_id=f"rule-submission-{body.fiscal_year}",
                                   stream_type="rule-submission", expected_version=version, events=[event],
                                   meta=runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit))
    return SubmissionOut(fiscal_year=body.fiscal_year, proposal_ids=proposal_ids, requirement_ids=requirement_ids)


class RequirementIn(BaseModel):
    fiscal_year: FiscalYear
    kind: Literal["预算分配下达", "资金支付", "绩效管理", "其他"] = Field(description="业务需求类型")
    description: str = Field(min_length=1, max_length=4000, description="业务需求描述")
    basis: str = Field(min_length=1, max_length=2000, description="依据")
    scope: list[str] = Field(min_length=1, description="适用范围: org unit codes, * for all")
    contact: str | None = Field(None, max_length=40)


@router.post("/requirements", status_code=201)
async def propose_requirement(body: RequirementIn, principal: CurrentPrincipal, runtime: RuntimeDep) -> dict[str, str]:
    """A business requirement for the platform for a coming fiscal year (附件1)."""
    unknown = [u for u in body.scope if u != "*" and u not in ORG_UNITS]
    if unknown:
        raise InvalidInput("unknown org units", errors=[{"field": "scope", "message": f"unknown: {unknown}"}])
    requirement_id = str(uuid4())
    event = RequirementProposed(requirement_id=requirement_id, proposer_division=principal.division,
                                cycle_id=_cycle(body.fiscal_year, principal.division), **body.model_dump())
    async with runtime.engine.begin() as conn:
        await runtime.store.create_streams(conn, [NewStream(f"requirement-{requirement_id}", "requirement", [event])],
                                           runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit))
    return {"requirement_id": requirement_id}


class BacktestIn(BaseModel):
    definition: dict[str, Any] = Field(default_factory=dict,
                                       description="Changes to try on the rule (a draft); empty: the rule as it is.")
    fiscal_year: FiscalYear | None = Field(None, description="Whose rule to start from; default this year.")
    since: date | None = Field(None, description="Records from this day (Beijing) on.")
    until: date | None = Field(None, description="Records up to and including this day.")
    limit: int = Field(20_000, ge=1, le=200_000, description="At most this many records are judged.")


class BacktestOut(BaseModel):
    rule_id: str
    examined: int
    would_raise: int
    by_level: dict[str, int]
    by_org_unit: dict[str, int]
    samples: list[dict[str, Any]] = Field(description="Up to 10 alerts the rule would have raised.")


WINDOW_BACKTEST_LIMIT = 20_000
# A draft's conditions are judged in a worker process, in parts, within one memory limit and one deadline:
# whatever a proposer writes, the backtest ends, and the service goes on answering meanwhile.
BACKTEST_MEMORY_MB = 1024
BACKTEST_SECONDS = 120
BACKTEST_PART = 2_000


class Judging:
    """A backtest's records, gathered on the event loop and judged part by part in a limited worker."""

    def __init__(self, rule: Rule, worker: LimitedWorker) -> None:
        self.definition = rule.model_dump(mode="json")
        self.worker = worker
        self.cases: list[Case] = []
        self.found: list[tuple[dict[str, Any], str | None]] = []
        self.examined = 0

    async def seen(self) -> None:
        """One more record read; gathering the facts of 200,000 lets other requests and streams run between."""
        self.examined += 1
        if self.examined % 200 == 0:
            await asyncio.sleep(0)

    async def add(self, event_type: str, facts: dict[str, Any], org_unit: str | None) -> None:
        self.cases.append((event_type, facts, org_unit))
        if len(self.cases) >= BACKTEST_PART:
            await self.judge()

    async def judge(self) -> None:
        cases, self.cases = self.cases, []
        if not cases:
            return
        try:
            self.found += await self.worker.call(judge_cases, self.definition, cases)
        except ExpressionError as exc:
            raise InvalidInput("the condition cannot be evaluated on stored history", errors=[
                {"field": "definition.when", "message": str(exc)}]) from None
        except LimitBroken as exc:
            raise InvalidInput(f"judging the rule on stored history took {exc}: narrow the period or the limit",
                               errors=[{"field": "definition.when", "message": f"beyond the {exc.what} a "
                                                                               "backtest may take"}]) from None


@router.post("/rules/{rule_id}/backtest", response_model=BacktestOut)
async def backtest(rule_id: str, body: BacktestIn, runtime: RuntimeDep, principal: CurrentPrincipal) -> BacktestOut:
    """Run a rule, or a draft of it, over stored history: what it would have raised. It raises nothing.

    Payment rules see each payment with its indicator's present amount and allocations and the
    payments recorded before it; indicator rules see each registered indicator.
    """
    base = RULEBOOK.by_id(body.fiscal_year).get(rule_id)
    if base is None and not body.definition:
        raise NotFound(f"no rule {rule_id}")
    rule = _rule({**(base.model_dump(mode="json") if base else {}), **body.definition, "id": rule_id})
    if rule.kind == "deadline":
        raise InvalidInput("a backtest judges event and window rules", errors=[
            {"field": "definition.kind", "message": "deadline rules are judged by their clocks"}])
    if rule.kind == "window" and body.limit > WINDOW_BACKTEST_LIMIT:
        # Each payment of a window rule looks back through the payments before it: one query each.
        raise InvalidInput(f"a window rule is backtested on at most {WINDOW_BACKTEST_LIMIT} payments", errors=[
            {"field": "limit", "message": f"at most {WINDOW_BACKTEST_LIMIT} for a window rule"}])
    start = datetime.combine(body.since, time.min, tzinfo=SHANGHAI) if body.since else None
    end = datetime.combine(body.until, time.max, tzinfo=SHANGHAI) if body.until else None
    async with (LimitedWorker(memory_bytes=BACKTEST_MEMORY_MB * 2**20, seconds=BACKTEST_SECONDS) as worker,
                runtime.engine.connect() as conn):
        judging = Judging(rule, worker)
        if PaymentRecorded.event_type in rule.on:
            op = observed_payments.c
            # What was paid on the indicator before each payment counts every payment, also those before `since`.
            history = (select(op.seq, op.payload, op.amount, op.indicator_id, op.paid_at,
                              op.org_unit.label("paid_in"),
                              balances.c.amount.label("b_amount"), balances.c.allocated, balances.c.refunded,
                              balances.c.fiscal_year, balances.c.org_unit, balances.c.owner_division,
                              func.coalesce(func.sum(op.amount).over(partition_by=op.indicator_id, order_by=op.seq), 0)
                              .label("paid_through"))
                       .outerjoin(balances, balances.c.indicator_id == op.indicator_id).subquery())
            # The caller's scope: a district backtests on its own payments, a division on its own funds'.
            q = (select(history).where(*principal.where_visible(
                func.coalesce(history.c.org_unit, history.c.paid_in), history.c.owner_division))
                 .order_by(history.c.seq).limit(body.limit))
            if start:
                q = q.where(history.c.paid_at >= start)
            if end:
                q = q.where(history.c.paid_at <= end)
            for row in await conn.execute(q):
                await judging.seen()
                payment = PaymentRecorded.model_validate(row.payload).model_dump()
                balance = None if row.b_amount is None else IndicatorBalance(
                    indicator_id=row.indicator_id, amount=row.b_amount, allocated=row.allocated,
                    paid_before=row.paid_through - row.amount, refunded=row.refunded, fiscal_year=row.fiscal_year,
                    org_unit=row.org_unit, owner_division=row.owner_division)
                facts = payment_facts(payment, balance)
                if rule.kind == "window" and rule.window is not None:
                    if not in_window(rule.window, payment):
                        continue
                    facts["window"] = await window_facts(conn, rule.window, rule.params, payment, row.seq)
                org_unit = balance.org_unit if balance else payment.get("org_unit")
                await judging.add(PaymentRecorded.event_type, facts, org_unit)
        if IndicatorRegistered.event_type in rule.on:
            q = (select(balances.c.registered).where(balances.c.registered.is_not(None),
                                                     *principal.where_visible(balances.c.org_unit,
                                                                              balances.c.owner_division))
                 .limit(body.limit))
            for (registered,) in await conn.execute(q):
                indicator = IndicatorRegistered.model_validate(registered).model_dump()
                if (body.since and indicator["registered_on"] < body.since) or (
                        body.until and indicator["registered_on"] > body.until):
                    continue
                await judging.seen()
                await judging.add(IndicatorRegistered.event_type, indicator_facts(indicator), indicator["org_unit"])
        await judging.judge()
    found = judging.found
    return BacktestOut(
        rule_id=rule_id, examined=judging.examined, would_raise=len(found),
        by_level=dict(Counter(breach["level"] for breach, _ in found)),
        by_org_unit=dict(Counter(org or "—" for _, org in found)),
        samples=[{"subject": breach["subject"], "summary": breach["summary"], "values": breach["values"],
                  "org_unit": org} for breach, org in found[:10]])


