"""Backtesting a rule, or a draft of it, on stored history: which records it would have raised alerts on. The
history's SQL (each payment with its indicator's balance and what was paid on it before; each registered
indicator), and `Judging`, which judges the records part by part in a limited worker process."""

import asyncio
from collections import Counter
from datetime import date, datetime, time
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.errors import InvalidInput, NotFound, fault
from backbone.identity import CurrentPrincipal, Principal
from backbone.limited import LimitBroken, LimitedWorker
from backbone.service import RuntimeDep
from backbone.workdays import SHANGHAI
from contracts.ledger import IndicatorRegistered
from contracts.payments import PaymentRecorded
from contracts.values import FiscalYear
from services.alerting.projections import balances, observed_payments, window_facts
from services.alerting.rules import Rule
from services.alerting.rules.book import RULEBOOK
from services.alerting.rules.engine import (Case, IndicatorBalance, in_window, indicator_facts, judge_cases,
                                            payment_facts)
from services.alerting.rules.expressions import ExpressionError
from services.alerting.rules_api import draft_rule

router = APIRouter(prefix="/api/v1", tags=["rules"])


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
                fault("definition.when", str(exc))]) from None
        except LimitBroken as exc:
            raise InvalidInput(f"judging the rule on stored history took {exc}: narrow the period or the limit",
                               errors=[fault("definition.when", f"beyond the {exc.what} a "
                                                                               "backtest may take")]) from None


@router.post("/rules/{rule_id}/backtest", response_model=BacktestOut)
async def backtest(rule_id: str, body: BacktestIn, runtime: RuntimeDep, principal: CurrentPrincipal) -> BacktestOut:
    """Run a rule, or a draft of it, over stored history: what it would have raised. It raises nothing.

    Payment rules see each payment with its indicator's present amount and allocations and the
    payments recorded before it; indicator rules see each registered indicator.
    """
    base = RULEBOOK.by_id(body.fiscal_year).get(rule_id)
    if base is None and not body.definition:
        raise NotFound(f"no rule {rule_id}")
    rule = draft_rule({**(base.model_dump(mode="json") if base else {}), **body.definition, "id": rule_id})
    if rule.kind == "deadline":
        raise InvalidInput("a backtest judges event and window rules", errors=[
            fault("definition.kind", "deadline rules are judged by their clocks")])
    if rule.kind == "window" and body.limit > WINDOW_BACKTEST_LIMIT:
        # Each payment of a window rule looks back through the payments before it: one query each.
        raise InvalidInput(f"a window rule is backtested on at most {WINDOW_BACKTEST_LIMIT} payments", errors=[
            fault("limit", f"at most {WINDOW_BACKTEST_LIMIT} for a window rule")])
    async with (LimitedWorker(memory_bytes=BACKTEST_MEMORY_MB * 2**20, seconds=BACKTEST_SECONDS) as worker,
                runtime.engine.connect() as conn):
        judging = Judging(rule, worker)
        if PaymentRecorded.event_type in rule.on:
            await _judge_payments(conn, judging, rule, principal, body)
        if IndicatorRegistered.event_type in rule.on:
            await _judge_indicators(conn, judging, principal, body)
        await judging.judge()
    found = judging.found
    return BacktestOut(
        rule_id=rule_id, examined=judging.examined, would_raise=len(found),
        by_level=dict(Counter(breach["level"] for breach, _ in found)),
        by_org_unit=dict(Counter(org or "—" for _, org in found)),
        samples=[{"subject": breach["subject"], "summary": breach["summary"], "values": breach["values"],
                  "org_unit": org} for breach, org in found[:10]])


def _payment_history(principal: Principal, body: BacktestIn) -> Select[Any]:
    """The payments of the backtest's period within the caller's scope, in the order they were observed, each
    with its indicator's balance and what was paid on the indicator through it."""
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
    if body.since:
        q = q.where(history.c.paid_at >= datetime.combine(body.since, time.min, tzinfo=SHANGHAI))
    if body.until:
        q = q.where(history.c.paid_at <= datetime.combine(body.until, time.max, tzinfo=SHANGHAI))
    return q


async def _judge_payments(conn: AsyncConnection, judging: Judging, rule: Rule, principal: Principal,
                          body: BacktestIn) -> None:
    """Each payment as the rule would have seen it arrive: its facts with its indicator's balance, and for a
    window rule the payments before it in its window."""
    for row in await conn.execute(_payment_history(principal, body)):
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


async def _judge_indicators(conn: AsyncConnection, judging: Judging, principal: Principal, body: BacktestIn) -> None:
    """Each indicator within the caller's scope registered in the backtest's period."""
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
