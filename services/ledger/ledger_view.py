"""The master ledger (总台账): one row per indicator with its standing, now or as of a past date,
within the caller's scope, and the fund flow (穿透) from an indicator down to its payments.

The live rows come from the read models; `as_of` rebuilds them for one read from the rows no later
event changed, the ledger's own events of those that changed (folded up to that moment) and the
spending the ledger had learned of by then, never from a second copy of the ledger. Both are sorted,
paged and totalled by the same statements in PostgreSQL.
"""

from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from typing import Any

from pydantic_core import to_json
from sqlalchemy import Column, MetaData, Numeric, Select, Table, Text, case, exists, func, select, text, true, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.identity import Principal
from backbone.workdays import SHANGHAI
from contracts.ledger import IndicatorAdjusted, IndicatorCorrected, IndicatorRegistered
from services.ledger.domain import typed_changes
from services.ledger.projections import indicators, payment_facts, refund_facts, spending, spending_days

ZERO = Decimal("0.00")
FILTERS = ("fiscal_year", "org_unit", "owner_division", "level", "budget_project", "function_code")
# An indicator's own elements, without the sums kept beside them.
ELEMENTS = [c for c in indicators.c if c.key != "allocated"]
# A past row has no stream version: the page shows none, and finding the one a fold would give scanned the whole
# event store.
PAST_ELEMENTS = [c for c in ELEMENTS if c.key != "version"]
# Elements no event changes and every child shares with its parent: safe to filter before folding.
FOLD_FILTERS = ("fiscal_year",)


@dataclass(frozen=True)
class LedgerRow:
    """An indicator and where it stands."""

    fields: dict[str, Any]
    amount: Decimal
    allocated: Decimal
    paid: Decimal
    refunded: Decimal

    @property
    def available(self) -> Decimal:
        return self.amount - self.allocated - self.paid + self.refunded

    def owned_by(self, principal: Principal) -> bool:
        """Within the caller's own scope, not only shown as a parent its indicators came from."""
        return principal.can_see(org_unit=self.fields["org_unit"], owner_division=self.fields["owner_division"])

    def sort_key(self, sort: str) -> Any:
        return self.available if sort == "available" else self.fields[sort] if sort != "amount" else self.amount


# The ledger as it stood at a past instant, built once in the read's transaction (and gone with it), then sorted,
# paged and totalled by the same statements as the live ledger: its rows are the indicator's elements with what
# its children were given, paid and refunded at that instant.
PAST = Table("ledger_past", MetaData(), *(Column(c.key, c.type) for c in PAST_ELEMENTS),
             Column("allocated", Numeric(18, 2)), Column("paid", Numeric(18, 2)), Column("refunded", Numeric(18, 2)),
             prefixes=["TEMPORARY"], postgresql_on_commit="DROP")


def scope_clause(principal: Principal, rows: Table = indicators) -> Any:
    """Indicators a caller may see: its own scope, plus the parents its indicators came from."""
    if principal.citywide:
        return None
    district = principal.org_unit if "district" in principal.roles else None
    division = principal.division if "division" in principal.roles else None
    visible = text("""
        WITH RECURSIVE visible AS (
            SELECT indicator_id, parent_id FROM ledger.indicators
            WHERE org_unit = :scope_org_unit OR owner_division = :scope_division
            UNION SELECT p.indicator_id, p.parent_id FROM ledger.indicators p
            JOIN visible v ON p.indicator_id = v.parent_id
        ) SELECT indicator_id FROM visible""").bindparams(scope_org_unit=district, scope_division=division)
    return rows.c.indicator_id.in_(visible.columns(indicator_id=Text))


def standing(principal: Principal, filters: dict[str, Any], rows: Table = indicators) -> Select[Any]:
    """Every indicator that matches, within scope, with its standing and whether it is the caller's own (not only
    a parent shown for context): one statement, so that sorting, paging and totals happen in PostgreSQL. What the
    children were given and what was paid are kept on the rows (the projections, or the past ledger), never summed
    here."""
    live = rows is indicators
    paid = func.coalesce(spending.c.paid, 0) if live else rows.c.paid
    refunded = func.coalesce(spending.c.refunded, 0) if live else rows.c.refunded
    own = principal.where_visible(rows.c.org_unit, rows.c.owner_division)
    query = select(*(rows.c[c.key] for c in (ELEMENTS if live else PAST_ELEMENTS)),
                   rows.c.allocated.label("allocated_sum"), paid.label("paid_sum"), refunded.label("refunded_sum"),
                   (rows.c.amount - rows.c.allocated - paid + refunded).label("available"),
                   (own[0] if own else true()).label("owned"))
    if live:
        query = query.outerjoin(spending, spending.c.indicator_id == indicators.c.indicator_id)
    query = query.where(*(rows.c[k] == v for k, v in filters.items()))
    scope = scope_clause(principal, rows)
    return query if scope is None else query.where(scope)


def _row(r: Any) -> LedgerRow:
    fields = dict(r._mapping)
    for key in ("allocated_sum", "paid_sum", "refunded_sum", "available", "owned"):
        del fields[key]
    return LedgerRow(fields, r.amount, Decimal(r.allocated_sum), Decimal(r.paid_sum), Decimal(r.refunded_sum))


async def live_rows(conn: AsyncConnection, principal: Principal, filters: dict[str, Any]) -> list[LedgerRow]:
    """The ledger now, every matching row (the export's)."""
    return [_row(r) for r in await conn.execute(standing(principal, filters))]


async def ledger_page(conn: AsyncConnection, principal: Principal, filters: dict[str, Any], sort: str,
                      after: tuple[Any, str] | None, limit: int, rows: Table = indicators
                      ) -> tuple[list[LedgerRow], bool]:
    """A page of the ledger (now, or the past one in `rows`) in `sort` order (then by id), after a keyset position;
    and whether more follow."""
    m = standing(principal, filters, rows).subquery("m")
    key = m.c[sort.lstrip("-")]
    # Text sorts by code point: the server's collation would order 长 and 吉 by its own rules.
    key = key.collate("C") if sort.lstrip("-") == "doc_no" else key
    descending = sort.startswith("-")
    query = select(m).order_by(key.desc() if descending else key, m.c.indicator_id.desc() if descending
                               else m.c.indicator_id).limit(limit + 1)
    if after is not None:
        position = tuple_(key, m.c.indicator_id)
        query = query.where(position < tuple_(*after) if descending else position > tuple_(*after))
    found = (await conn.execute(query)).all()
    return [_row(r) for r in found[:limit]], len(found) > limit


async def ledger_totals(conn: AsyncConnection, principal: Principal, filters: dict[str, Any], group_by: str | None,
                        rows: Table = indicators
                        ) -> tuple[dict[str, Decimal | int], dict[Any, dict[str, Decimal | int]]]:
    """`totals` of the caller's own matching rows, and per value of `group_by` when asked: one pass over them each.
    A row counts as received unless its parent is among them (in the same group), which is looked up only for the
    rows that have a parent."""
    m = standing(principal, filters, rows).subquery("m")

    def received(grouped: bool) -> Any:
        parent = rows.alias("parent")
        among = exists().where(parent.c.indicator_id == m.c.parent_id,
                               *(parent.c[k] == v for k, v in filters.items()),
                               *principal.where_visible(parent.c.org_unit, parent.c.owner_division),
                               *([parent.c[group_by].is_not_distinct_from(m.c[group_by])] if grouped else []))
        return func.coalesce(func.sum(case((m.c.parent_id.is_(None), m.c.amount), (~among, m.c.amount), else_=0)),
                             0).label("received")

    def figures(grouped: bool) -> list[Any]:
        return [func.count().label("indicators"), received(grouped),
                func.coalesce(func.sum(m.c.amount), 0).label("amount"),
                func.coalesce(func.sum(m.c.allocated_sum), 0).label("allocated"),
                func.coalesce(func.sum(m.c.paid_sum), 0).label("paid"),
                func.coalesce(func.sum(m.c.refunded_sum), 0).label("refunded"),
                func.coalesce(func.sum(m.c.available), 0).label("available")]

    def _totals(r: Any) -> dict[str, Decimal | int]:
        return {"indicators": r.indicators, "received": Decimal(r.received),
                "allocated_out": Decimal(r.allocated) - (Decimal(r.amount) - Decimal(r.received)),
                "paid": Decimal(r.paid), "refunded": Decimal(r.refunded), "available": Decimal(r.available)}

    whole = (await conn.execute(select(*figures(False)).where(m.c.owned))).one()
    groups: dict[Any, dict[str, Decimal | int]] = {}
    if group_by:
        for r in await conn.execute(select(m.c[group_by].label("key"), *figures(True)).where(m.c.owned)
                                    .group_by(m.c[group_by])):
            groups[r.key] = _totals(r)
    return _totals(whole), groups


def _fold(events: Any, fields: dict[str, dict[str, Any]], fixed: dict[str, Any]) -> None:
    """Fold registrations, adjustments and corrections, in their order, into `fields` (by indicator id)."""
    for event_type, payload, occurred_at, actor in events:
        if event_type == IndicatorRegistered.event_type:
            e = IndicatorRegistered.model_validate(payload)
            if any(getattr(e, k) != v for k, v in fixed.items()):
                continue  # an indicator the filters leave out
            fields[e.indicator_id] = {**e.model_dump(), "registered_by": actor,
                                      "registered_at": occurred_at}
        elif payload["indicator_id"] not in fields:
            continue
        elif event_type == IndicatorCorrected.event_type:
            c = IndicatorCorrected.model_validate(payload)
            fields[c.indicator_id] |= typed_changes(c.changes)
        else:
            a = IndicatorAdjusted.model_validate(payload)
            fields[a.indicator_id] |= {"amount": a.amount_after}


async def build_past(conn: AsyncConnection, filters: dict[str, Any], cutoff: datetime) -> Table:
    """The ledger as it stood at `cutoff`, as the table `PAST` of this transaction.

    An indicator no adjustment or correction touched since then stands as its read-model row says (what the fold of
    its events would give, typed already); only the others are folded from their events, so a past ledger costs the
    changes since, not the whole history. Paid and refunded are the sums kept at the end of the last day each
    indicator's spending changed before the cutoff's (Beijing) day, plus the facts recorded on that day before it.
    """
    types = [IndicatorRegistered.event_type, IndicatorAdjusted.event_type, IndicatorCorrected.event_type]
    changed = list((await conn.execute(text("""
        SELECT DISTINCT stream_id FROM ledger.events WHERE occurred_at >= :cutoff AND event_type = ANY(:types)"""),
        {"cutoff": cutoff, "types": types[1:]})).scalars())
    fixed = {k: v for k, v in filters.items() if k in FOLD_FILTERS}
    folded: dict[str, dict[str, Any]] = {}
    if changed:
        events = await conn.execute(text("""
            SELECT event_type, payload, occurred_at, metadata->>'actor' AS actor FROM ledger.events
            WHERE stream_id = ANY(:streams) AND occurred_at < :cutoff AND event_type = ANY(:types)
            ORDER BY position"""), {"streams": changed, "cutoff": cutoff, "types": types})
        _fold(events, folded, fixed)
    keys = [c.key for c in PAST_ELEMENTS]
    columns = ", ".join(keys)
    day = cutoff.astimezone(SHANGHAI).date()
    await conn.run_sync(PAST.create)
    await conn.execute(text(f"""
        INSERT INTO {PAST.name} ({columns}, allocated, paid, refunded)
        WITH past AS (
            SELECT {columns} FROM {indicators.fullname}
            WHERE registered_at < :cutoff AND NOT indicator_id = ANY(:changed)
                  {"".join(f" AND {k} = :{k}" for k in fixed)}
            UNION ALL
            SELECT {columns} FROM jsonb_populate_recordset(NULL::{indicators.fullname}, CAST(:folded AS jsonb))
        ), given AS (
            SELECT parent_id, sum(amount) AS allocated FROM past WHERE parent_id IS NOT NULL GROUP BY parent_id
        ), paid_that_day AS (
            SELECT indicator_id, sum(amount) AS paid FROM {payment_facts.fullname}
            WHERE recorded_at >= :start AND recorded_at < :cutoff GROUP BY indicator_id
        ), refunded_that_day AS (
            SELECT indicator_id, sum(amount) AS refunded FROM {refund_facts.fullname}
            WHERE recorded_at >= :start AND recorded_at < :cutoff GROUP BY indicator_id
        )
        SELECT {", ".join(f"past.{k}" for k in keys)}, coalesce(given.allocated, 0),
               coalesce(before.paid, 0) + coalesce(p.paid, 0), coalesce(before.refunded, 0) + coalesce(r.refunded, 0)
        FROM past
        LEFT JOIN given ON given.parent_id = past.indicator_id
        LEFT JOIN LATERAL (SELECT paid, refunded FROM {spending_days.fullname} d
                           WHERE d.indicator_id = past.indicator_id AND d.day < :day
                           ORDER BY d.day DESC LIMIT 1) before ON true
        LEFT JOIN paid_that_day p ON p.indicator_id = past.indicator_id
        LEFT JOIN refunded_that_day r ON r.indicator_id = past.indicator_id"""),
        {"cutoff": cutoff, "changed": [s.removeprefix("indicator-") for s in changed], **fixed, "day": day,
         "start": datetime.combine(day, time.min, tzinfo=SHANGHAI),
         "folded": to_json([{k: f[k] for k in keys} for f in folded.values()]).decode()})
    return PAST


async def flow(conn: AsyncConnection, indicator_id: str) -> dict[str, Any] | None:
    """The tree below an indicator, each node with its standing and, on every node, its payments."""
    tree = (await conn.execute(text("""
        WITH RECURSIVE down AS (
            SELECT * FROM ledger.indicators WHERE indicator_id = :id
            UNION ALL SELECT i.* FROM ledger.indicators i JOIN down ON i.parent_id = down.indicator_id
        ) SELECT indicator_id, parent_id, doc_no, fund_name, amount, org_unit, owner_division, level FROM down"""),
        {"id": indicator_id})).all()
    if not tree:
        return None
    ids = [r.indicator_id for r in tree]
    paid_rows = (await conn.execute(select(payment_facts).where(payment_facts.c.indicator_id.in_(ids))
                                    .order_by(payment_facts.c.paid_at))).all()
    returned = dict((await conn.execute(
        select(refund_facts.c.indicator_id, func.sum(refund_facts.c.amount))
        .where(refund_facts.c.indicator_id.in_(ids)).group_by(refund_facts.c.indicator_id))).tuples().all())
    nodes = {r.indicator_id: {**r._mapping, "children": [], "payments": []} for r in tree}
    for p in paid_rows:
        nodes[p.indicator_id]["payments"].append({"payment_id": p.payment_id, "amount": p.amount,
                                                  "paid_at": p.paid_at})
    for node in nodes.values():
        if node["parent_id"] in nodes and node["indicator_id"] != indicator_id:
            nodes[node["parent_id"]]["children"].append(node)
    for node in nodes.values():
        node["allocated"] = sum((c["amount"] for c in node["children"]), ZERO)
        node["paid"] = sum((p["amount"] for p in node["payments"]), ZERO)
        node["refunded"] = Decimal(returned.get(node["indicator_id"], ZERO))
        node["available"] = node["amount"] - node["allocated"] - node["paid"] + node["refunded"]
    return nodes[indicator_id]

