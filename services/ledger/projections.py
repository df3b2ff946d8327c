"""Read models of the ledger: indicators, what has been paid from them, and the documents attached to them."""

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import (BigInteger, Boolean, Column, Date, DateTime, Integer, MetaData, Numeric, Table, Text,
                        UniqueConstraint, func, select, text, update)
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.db import bulk_insert
from backbone.workdays import SHANGHAI
from contracts.envelope import EventEnvelope
from contracts.ledger import IndicatorAdjusted, IndicatorCorrected, IndicatorDocumentAttached, IndicatorRegistered
from services.ledger.domain import ZERO, Standing, typed_changes

metadata = MetaData(schema="ledger")

DATES = ("issued_on", "received_on", "registered_on")
# Registered indicators go in by COPY from this many on: their rows hold the columns' own types.
COPY_INDICATORS_FROM = 20

indicators = Table(
    "indicators", metadata,
    Column("indicator_id", Text, primary_key=True),
    Column("doc_no", Text), Column("fund_name", Text), Column("fund_nature", Text),
    Column("function_code", Text), Column("economic_code", Text), Column("budget_project", Text),
    Column("amount", Numeric(18, 2)), Column("fiscal_year", Integer), Column("level", Text),
    Column("issued_on", Date), Column("received_on", Date), Column("registered_on", Date),
    Column("owner_division", Text), Column("org_unit", Text), Column("poverty_tag", Boolean),
    Column("parent_id", Text), Column("version", Integer),
    Column("registered_by", Text), Column("registered_at", DateTime(timezone=True)),
    # What its children were given, kept with their registrations and adjustments: no read sums the children.
    Column("allocated", Numeric(18, 2), nullable=False, server_default="0"),
)

spending = Table(
    "indicator_spending", metadata,
    Column("indicator_id", Text, primary_key=True),
    Column("paid", Numeric(18, 2)), Column("refunded", Numeric(18, 2)), Column("payments", Integer),
)

refund_facts = Table(
    "indicator_refunds", metadata,
    Column("refund_id", Text, primary_key=True), Column("indicator_id", Text), Column("amount", Numeric(18, 2)),
    Column("recorded_at", DateTime(timezone=True)),
)

# An indicator's paid and refunded sums as they stood at the end of each Beijing day they changed: the past ledger
# starts from the last one before its day and adds that day's facts up to its instant.
spending_days = Table(
    "indicator_spending_days", metadata,
    Column("indicator_id", Text, primary_key=True), Column("day", Date, primary_key=True),
    Column("paid", Numeric(18, 2)), Column("refunded", Numeric(18, 2)),
)

payment_facts = Table(
    "indicator_payments", metadata,
    Column("payment_id", Text, primary_key=True), Column("indicator_id", Text), Column("amount", Numeric(18, 2)),
    Column("paid_at", DateTime(timezone=True)), Column("recorded_at", DateTime(timezone=True)),
)

documents = Table(
    "indicator_documents", metadata,
    Column("document_id", Text, primary_key=True),
    Column("indicator_id", Text), Column("sha256", Text), Column("media_type", Text), Column("size", BigInteger),
    Column("filename", Text), Column("attached_by", Text), Column("attached_at", DateTime(timezone=True)),
    UniqueConstraint("indicator_id", "sha256"),
)


async def project_indicators(conn: AsyncConnection, envelopes: Sequence[EventEnvelope]) -> None:
    """Inline projection: indicator rows follow registration, allocation and adjustment, and a parent's
    `allocated` its children's amounts."""
    rows = []
    given: dict[str, Decimal] = {}
    for env in envelopes:
        if env.event_type == IndicatorRegistered.event_type:
            # From the payload as stored (validated as it was recorded): an import's thousands of rows are not
            # validated again, only their dates and amount turned back into the columns' types for COPY.
            payload = env.payload
            rows.append({**payload, **{name: payload[name] and date.fromisoformat(payload[name]) for name in DATES},
                         "amount": Decimal(payload["amount"]), "version": env.version,
                         "registered_by": env.metadata.actor, "registered_at": env.occurred_at})
        elif env.event_type == IndicatorAdjusted.event_type:
            adjusted = IndicatorAdjusted.model_validate(env.payload)
            parent_id = await conn.scalar(update(indicators)
                                          .where(indicators.c.indicator_id == adjusted.indicator_id)
                                          .values(amount=adjusted.amount_after, version=env.version)
                                          .returning(indicators.c.parent_id))
            if parent_id:
                given[parent_id] = given.get(parent_id, ZERO) + adjusted.delta
        elif env.event_type == IndicatorCorrected.event_type:
            corrected = IndicatorCorrected.model_validate(env.payload)
            await conn.execute(update(indicators).where(indicators.c.indicator_id == corrected.indicator_id)
                               .values(**typed_changes(corrected.changes), version=env.version))
        elif env.stream_type == "indicator":
            # Every later event of the stream: the next command appends after this version.
            await conn.execute(update(indicators).where(indicators.c.indicator_id == env.payload["indicator_id"])
                               .values(version=env.version))
    # Parents before children: the foreign key wants the parent row first.
    await bulk_insert(conn, indicators, rows, copy_from=COPY_INDICATORS_FROM)
    for row in rows:
        if row["parent_id"]:
            given[row["parent_id"]] = given.get(row["parent_id"], ZERO) + row["amount"]
    # In id order: two transactions never wait on each other's parents in opposite orders.
    for parent_id, amount in sorted(given.items()):
        await conn.execute(update(indicators).where(indicators.c.indicator_id == parent_id)
                           .values(allocated=indicators.c.allocated + amount))


async def project_documents(conn: AsyncConnection, envelopes: Sequence[EventEnvelope]) -> None:
    """Inline projection: a row per attached document."""
    for env in envelopes:
        if env.event_type != IndicatorDocumentAttached.event_type:
            continue
        event = IndicatorDocumentAttached.model_validate(env.payload)
        await conn.execute(documents.insert().values(
            document_id=event.document_id, indicator_id=event.indicator_id, sha256=event.sha256,
            media_type=event.media_type, size=event.size, filename=event.filename,
            attached_by=env.metadata.actor, attached_at=env.occurred_at,
        ))


class PaymentFact(NamedTuple):
    payment_id: str
    indicator_id: str
    amount: Decimal
    paid_at: datetime
    recorded_at: datetime


class RefundFact(NamedTuple):
    refund_id: str
    indicator_id: str
    amount: Decimal
    recorded_at: datetime


async def add_spending(conn: AsyncConnection, payments: list[PaymentFact], refunds: list[RefundFact]) -> None:
    """Count payments against their indicators (known yet or not) and refunds back on them, each fact once: the
    facts first, then one upsert of the sums of those that were new, per indicator in id order (two runs never
    wait on each other in opposite orders), then the days they were recorded on."""
    paid: dict[str, list[Decimal | int]] = {}
    by_day: dict[tuple[str, date], list[Decimal]] = {}
    # Arrays, one per column (unnest), not a VALUES row per fact: SQLAlchemy compiled a statement of a run's length
    # anew for every run, a third of the ledger's CPU under a stream of payments.
    if payments:
        new = await conn.execute(text("""
            INSERT INTO ledger.indicator_payments (payment_id, indicator_id, amount, paid_at, recorded_at)
            SELECT * FROM unnest(CAST(:ids AS text[]), CAST(:indicators AS text[]), CAST(:amounts AS numeric[]),
                                 CAST(:paid_at AS timestamptz[]), CAST(:recorded_at AS timestamptz[]))
            ON CONFLICT DO NOTHING RETURNING indicator_id, amount, recorded_at"""),
            {"ids": [p.payment_id for p in payments], "indicators": [p.indicator_id for p in payments],
             "amounts": [p.amount for p in payments], "paid_at": [p.paid_at for p in payments],
             "recorded_at": [p.recorded_at for p in payments]})
        for indicator_id, amount, recorded_at in new:
            sums = paid.setdefault(indicator_id, [ZERO, ZERO, 0])
            sums[0] += amount
            sums[2] += 1
            by_day.setdefault((indicator_id, recorded_at.astimezone(SHANGHAI).date()), [ZERO, ZERO])[0] += amount
    if refunds:
        new = await conn.execute(text("""
            INSERT INTO ledger.indicator_refunds (refund_id, indicator_id, amount, recorded_at)
            SELECT * FROM unnest(CAST(:ids AS text[]), CAST(:indicators AS text[]), CAST(:amounts AS numeric[]),
                                 CAST(:recorded_at AS timestamptz[]))
            ON CONFLICT DO NOTHING RETURNING indicator_id, amount, recorded_at"""),
            {"ids": [r.refund_id for r in refunds], "indicators": [r.indicator_id for r in refunds],
             "amounts": [r.amount for r in refunds], "recorded_at": [r.recorded_at for r in refunds]})
        for indicator_id, amount, recorded_at in new:
            paid.setdefault(indicator_id, [ZERO, ZERO, 0])[1] += amount
            by_day.setdefault((indicator_id, recorded_at.astimezone(SHANGHAI).date()), [ZERO, ZERO])[1] += amount
    if not paid:
        return
    ids = sorted(paid)
    await conn.execute(text("""
        INSERT INTO ledger.indicator_spending (indicator_id, paid, refunded, payments)
        SELECT * FROM unnest(CAST(:ids AS text[]), CAST(:paid AS numeric[]), CAST(:refunded AS numeric[]),
                             CAST(:payments AS int[]))
        ON CONFLICT (indicator_id) DO UPDATE SET paid = indicator_spending.paid + excluded.paid,
            refunded = indicator_spending.refunded + excluded.refunded,
            payments = indicator_spending.payments + excluded.payments"""),
        {"ids": ids, "paid": [paid[i][0] for i in ids], "refunded": [paid[i][1] for i in ids],
         "payments": [paid[i][2] for i in ids]})
    await _add_days(conn, by_day)


async def _add_days(conn: AsyncConnection, by_day: dict[tuple[str, date], list[Decimal]]) -> None:
    """Carry new facts into the indicators' end-of-day sums: a day not yet kept starts from the last one before it,
    then every kept day from a fact's day on counts it (a fact recorded late counts in the days after it too).
    The upsert of `spending` above holds each indicator's row, so runs on one indicator take turns here."""
    if not by_day:
        return
    keys = sorted(by_day)
    new = {"ids": [k[0] for k in keys], "days": [k[1] for k in keys],
           "paid": [by_day[k][0] for k in keys], "refunded": [by_day[k][1] for k in keys]}
    await conn.execute(text("""
        INSERT INTO ledger.indicator_spending_days (indicator_id, day, paid, refunded)
        SELECT n.indicator_id, n.day, coalesce(before.paid, 0), coalesce(before.refunded, 0)
        FROM unnest(CAST(:ids AS text[]), CAST(:days AS date[])) AS n (indicator_id, day)
        LEFT JOIN LATERAL (SELECT paid, refunded FROM ledger.indicator_spending_days d
                           WHERE d.indicator_id = n.indicator_id AND d.day < n.day
                           ORDER BY d.day DESC LIMIT 1) before ON true
        ON CONFLICT DO NOTHING"""), new)
    await conn.execute(text("""
        UPDATE ledger.indicator_spending_days d SET paid = d.paid + later.paid, refunded = d.refunded + later.refunded
        FROM (SELECT k.indicator_id, k.day, sum(n.paid) AS paid, sum(n.refunded) AS refunded
              FROM unnest(CAST(:ids AS text[]), CAST(:days AS date[]), CAST(:paid AS numeric[]),
                          CAST(:refunded AS numeric[])) AS n (indicator_id, day, paid, refunded)
              JOIN ledger.indicator_spending_days k ON k.indicator_id = n.indicator_id AND k.day >= n.day
              GROUP BY k.indicator_id, k.day) later
        WHERE d.indicator_id = later.indicator_id AND d.day = later.day"""), new)


async def indicator_with_standing(conn: AsyncConnection, indicator_id: str, *, lock: bool = False
                                  ) -> tuple[dict, Standing] | None:
    """An indicator row and its standing, or None; `lock` holds the row until the transaction ends."""
    query = select(indicators).where(indicators.c.indicator_id == indicator_id)
    row = (await conn.execute(query.with_for_update() if lock else query)).first()
    if row is None:
        return None
    children = indicators.alias("children")
    allocated = await conn.scalar(
        select(func.coalesce(func.sum(children.c.amount), 0)).where(children.c.parent_id == indicator_id)
    )
    spent = (await conn.execute(select(spending).where(spending.c.indicator_id == indicator_id))).first()
    standing = Standing(
        amount=row.amount,
        allocated=Decimal(allocated),
        paid=spent.paid if spent else Decimal("0.00"),
        refunded=spent.refunded if spent else Decimal("0.00"),
    )
    return dict(row._mapping), standing


def as_registered(row: dict) -> IndicatorRegistered:
    """The indicator's registration as it stands now (current amount)."""
    return IndicatorRegistered.model_validate({k: row[k] for k in IndicatorRegistered.model_fields})
