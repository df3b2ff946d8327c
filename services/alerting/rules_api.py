"""The rules in force (第十五条, 第二十条), each with its precision from past verifications, and drafts: a rule
proposed for a coming fiscal year (附件2), its definition checked as a rule, national levels kept fixed. What
becomes of a proposal is in proposals_api.py; trying a draft on stored history in backtest.py."""

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import uuid4

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import func, select

from backbone.clock import clock
from backbone.errors import InvalidInput, fault, field_errors
from backbone.eventstore import NewStream
from backbone.identity import CurrentPrincipal
from backbone.pages import Page, PagingDep, sorted_page
from backbone.service import RuntimeDep
from contracts.alerting import RuleProposed
from contracts.values import AlertLevel, FiscalYear
from services.alerting.projections import alerts, dispositions
from services.alerting.rule_levels import level_in, rule_levels
from services.alerting.proposals_api import ProposalOut, cycle_of, read_proposal
from services.alerting.rules import Rule, starter_rules
from services.alerting.rules.book import RULEBOOK

router = APIRouter(prefix="/api/v1", tags=["rules"])


class Precision(BaseModel):
    """How a rule's yellow lights ended: verified normal (a false alarm) or confirmed as violations."""

    verified_normal: int
    confirmed: int
    precision: Decimal | None = Field(description="confirmed / (confirmed + verified normal); null before any.")


class LevelChange(BaseModel):
    """A level the Ministry or the province set for the rule (第二十条), from a fiscal year on."""

    fiscal_year: int
    level_before: AlertLevel
    level: AlertLevel
    authority: Literal["ministry", "province"]
    document: str | None
    message_id: str = Field(description="The province's message that carried it.")
    changed_at: datetime


class RuleOut(BaseModel):
    rule: dict[str, Any]
    source: Literal["starter", "local"] = Field(description="Shipped with FundWatch, or approved locally.")
    precision: Precision
    level_history: list[LevelChange] = Field(description="Levels set from above, oldest first.")


@router.get("/rules", response_model=Page[RuleOut])
async def list_rules(runtime: RuntimeDep, principal: CurrentPrincipal, asked: PagingDep,
                     fiscal_year: FiscalYear | None = Query(None, description="Default: this year.")) -> Page[RuleOut]:
    """The rules in force for a fiscal year, each with its precision from past verifications. In the order of
    their numbers (DR-001 … ZC-008), not newest first: a rule in force has no date of its own (a starter rule is as
    old as the release), and people look rules up by number. The cursor is the last rule's (number, id)."""
    year = fiscal_year or clock().today().year
    rules, next_cursor = sorted_page(RULEBOOK.for_year(year), lambda r: (r.number, r.id), asked)
    precision = await _precision(runtime)
    async with runtime.engine.connect() as conn:
        changes = (await conn.execute(select(rule_levels).order_by(rule_levels.c.changed_at))).all()
    starter = starter_rules()
    items = []
    for r in rules:
        own = [c for c in changes if c.rule_id == r.id]
        # The level stored now, ahead of the rule book's next refresh.
        level = level_in(own, year) or r.level
        # A starter rule at a level set from above is still the starter's.
        shipped = r.id in starter and starter[r.id].model_copy(update={"level": r.level}) == r
        items.append(RuleOut(
            rule=r.model_dump(mode="json") | {"level": level.value}, source="starter" if shipped else "local",
            precision=precision.get(r.id, Precision(verified_normal=0, confirmed=0, precision=None)),
            level_history=[LevelChange.model_validate(c, from_attributes=True) for c in own]))
    return Page[RuleOut](items=items, next_cursor=next_cursor)


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


@router.post("/rules", status_code=201, response_model=ProposalOut)
async def propose_rule(body: ProposalIn, principal: CurrentPrincipal, runtime: RuntimeDep) -> ProposalOut:
    """Propose a rule for a coming fiscal year (附件2); the condition must parse, national levels stay fixed."""
    this_year = clock().today().year
    if body.fiscal_year <= this_year:
        raise InvalidInput("rules are proposed for a coming fiscal year (第十五条)", errors=[
            fault("fiscal_year", f"from {this_year + 1} on")])
    rule = draft_rule(body.definition)
    national = starter_rules().get(rule.id)
    if national is not None and national.national and (rule.level != national.level or not rule.national):
        raise InvalidInput("the level of a national rule is fixed by the Ministry of Finance (第二十条)", errors=[
            fault("definition.level", f"stays {national.level.value}")])
    proposal_id = str(uuid4())
    event = RuleProposed(proposal_id=proposal_id, fiscal_year=body.fiscal_year,
                         definition=rule.model_dump(mode="json"), proposer_division=principal.division,
                         contact=body.contact, cycle_id=cycle_of(body.fiscal_year, principal.division))
    async with runtime.engine.begin() as conn:
        await runtime.store.create_streams(conn, [NewStream(f"rule-proposal-{proposal_id}", "rule-proposal", [event])],
                                           runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit))
        return await read_proposal(conn, proposal_id)


def draft_rule(definition: dict[str, Any]) -> Rule:
    """A rule's definition as sent (a proposal, or a backtest's draft) made a Rule; each fault named under
    `definition`."""
    try:
        return Rule(**definition)
    except ValidationError as exc:
        errors = field_errors(exc.errors(include_input=False))
        for err in errors:
            err["field"] = f"definition.{err['field']}" if err["field"] else "definition"
        raise InvalidInput("the rule is not valid", errors=errors) from None
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"the rule is not valid: {exc}", errors=[fault("definition", str(exc))]
                           ) from None
