"""Issued indicators against the ledger (第二十六条(一)): an issued indicator is kept as the province named it, and
each time the ledger's registrations under its document number change, how they stand is told to alerting
(IssuedIndicatorReconciled), which rings the bell, lights the yellow light or names both amounts."""

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.eventstore import EventStore
from contracts.province import IssuedIndicator
from contracts.sync import IndicatorIssued, IssuedIndicatorReconciled
from contracts.values import CITY_ORG_UNIT
from services.sync.exchange.issued import issue_id_for, news, outcome_of
from services.sync.projections import indicators, issued_indicators

RECEIVER = "budget"  # 预算处 receives the funds of higher governments (DESIGN §1)


async def record_issued(conn: AsyncConnection, store: EventStore, item: IssuedIndicator, message_id: str,
                        actor: str) -> None:
    """An indicator the province issued: new, or named again with other particulars (a corrected issue); the
    same particulars again say nothing new."""
    issue_id = issue_id_for(item.doc_no)
    held = (await conn.execute(select(issued_indicators).where(issued_indicators.c.issue_id == issue_id))).first()
    if held is not None and (held.fund_name, held.amount, held.issued_on, held.level, held.fiscal_year) == (
            item.fund_name, item.amount, item.issued_on, item.level, item.fiscal_year):
        return
    stream = f"issued-indicator-{issue_id}"
    event = IndicatorIssued(issue_id=issue_id, message_id=message_id, org_unit=CITY_ORG_UNIT,
                            owner_division=RECEIVER, **item.model_dump())
    await store.append(conn, stream_id=stream, stream_type="issued-indicator",
                       expected_version=await store.version(conn, stream), events=[event],
                       meta=store.metadata(actor=actor, org_unit=CITY_ORG_UNIT))
    await reconcile(conn, store, item.doc_no, actor)


async def reconcile(conn: AsyncConnection, store: EventStore, doc_no: str | None, actor: str) -> None:
    """Match an issued document with the indicators registered under its number (top-level ones: what the city
    received, not its allocations), when both are known and something changed."""
    if not doc_no:
        return
    issued = (await conn.execute(select(issued_indicators).where(issued_indicators.c.doc_no == doc_no)
                                 .with_for_update())).first()
    if issued is None:
        return
    registered = (await conn.execute(
        select(func.sum(indicators.c.amount), func.max(indicators.c.indicator_id),
               func.max(indicators.c.owner_division))
        .where(indicators.c.doc_no == doc_no, indicators.c.parent_id.is_(None)))).one()
    total, indicator_id, owner = registered
    if indicator_id is None:
        return
    total = Decimal(total)
    outcome = outcome_of(issued.amount, total)
    if not news(issued.status, issued.registered_amount, outcome, total):
        return
    stream = f"issued-indicator-{issued.issue_id}"
    event = IssuedIndicatorReconciled(
        issue_id=issued.issue_id, doc_no=doc_no, outcome=outcome, indicator_id=indicator_id,
        issued_amount=issued.amount, registered_amount=total, fiscal_year=issued.fiscal_year,
        org_unit=CITY_ORG_UNIT, owner_division=owner)
    await store.append(conn, stream_id=stream, stream_type="issued-indicator",
                       expected_version=await store.version(conn, stream), events=[event],
                       meta=store.metadata(actor=actor, org_unit=CITY_ORG_UNIT))
