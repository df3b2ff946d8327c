"""The master ledger (总台账): one row per indicator with its standing, now or as of a past date,
within the caller's scope, and the fund flow (穿透) from an indicator down to its payments.

The live rows come from the read models; `as_of` rebuilds them by folding the ledger's own
events up to that moment (and the payments the ledger had learned of by then), never from a
second copy of the ledger.
"""

from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, Text, case, exists, func, select, text, true, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.identity import Principal
from backbone.workdays import SHANGHAI
from contracts.ledger import IndicatorAdjusted, IndicatorCorrected, IndicatorRegistered
from services.ledger.domain import typed_changes
from services.ledger.projections import indicators, payment_facts, refund_facts, spending

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


def scope_clause(principal: Principal) -> Any:
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
    return indicators.c.indicator_id.in_(visible.columns(indicator_id=Text))


def _matches(fields: dict[str, Any], filters: dict[str, Any]) -> bool:
    return all(fields.get(k) == v for k, v in filters.items())


def standing(principal: Principal, filters: dict[str, Any]) -> Select[Any]:
    """Every indicator that matches, within scope, with its standing and whether it is the caller's own (not only
    a parent shown for context): one statement, so that sorting, paging and totals happen in PostgreSQL. What the
    children were given and what was paid are kept on the rows (the projections), never summed here."""
    paid, refunded = func.coalesce(spending.c.paid, 0), func.coalesce(spending.c.refunded, 0)
    own = principal.where_visible(indicators.c.org_unit, indicators.c.owner_division)
    query = (select(*ELEMENTS, indicators.c.allocated.label("allocated_sum"), paid.label("paid_sum"),
                    refunded.label("refunded_sum"),
                    (indicators.c.amount - indicators.c.allocated - paid + refunded).label("available"),
                    (own[0] if own else true()).label("owned"))
             .outerjoin(spending, spending.c.indicator_id == indicators.c.indicator_id)
             .where(*(indicators.c[k] == v for k, v in filters.items())))
    scope = scope_clause(principal)
    return query if scope is None else query.where(scope)


def _row(r: Any) -> LedgerRow:
    return LedgerRow({c.key: r._mapping[c.key] for c in ELEMENTS}, r.amount, Decimal(r.allocated_sum),
                     Decimal(r.paid_sum), Decimal(r.refunded_sum))


async def live_rows(conn: AsyncConnection, principal: Principal, filters: dict[str, Any]) -> list[LedgerRow]:
    """The ledger now, every matching row (the export's)."""
    return [_row(r) for r in await conn.execute(standing(principal, filters))]


async def live_page(conn: AsyncConnection, principal: Principal, filters: dict[str, Any], sort: str,
                    after: tuple[Any, str] | None, limit: int) -> tuple[list[LedgerRow], bool]:
    """A page of the ledger now in `sort` order (then by id), after a keyset position; and whether more follow."""
    m = standing(principal, filters).subquery("m")
    key = m.c[sort.lstrip("-")]
    # Text sorts by code point, as the as_of rows sort in Python: the server's collation would order 长 and 吉
    # by its own rules.
    key = key.collate("C") if sort.lstrip("-") == "doc_no" else key
    descending = sort.startswith("-")
    query = select(m).order_by(key.desc() if descending else key, m.c.indicator_id.desc() if descending
                               else m.c.indicator_id).limit(limit + 1)
    if after is not None:
        position = tuple_(key, m.c.indicator_id)
        query = query.where(position < tuple_(*after) if descending else position > tuple_(*after))
    rows = (await conn.execute(query)).all()
    return [_row(r) for r in rows[:limit]], len(rows) > limit


async def live_totals(conn: AsyncConnection, principal: Principal, filters: dict[str, Any],
                      group_by: str | None) -> tuple[dict[str, Decimal | int], dict[Any, dict[str, Decimal | int]]]:
    """`totals` of the caller's own matching rows, and per value of `group_by` when asked: one pass over them each.
    A row counts as received unless its parent is among them (in the same group), which is looked up only for the
    rows that have a parent."""
    m = standing(principal, filters).subquery("m")

    def received(grouped: bool) -> Any:
        parent = indicators.alias("parent")
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


async def rows_as_of(conn: AsyncConnection, principal: Principal, filters: dict[str, Any],
                     cutoff: datetime) -> list[LedgerRow]:
    """The ledger as it stood at `cutoff`. An indicator no adjustment or correction touched since then stands as its
    read-model row says (what the fold of its events would give, typed already); only the others are folded from
    their events, so a past ledger costs the changes since, not the whole history."""
    types = [IndicatorRegistered.event_type, IndicatorAdjusted.event_type, IndicatorCorrected.event_type]
    changes = {"cutoff": cutoff, "types": types[1:]}
    changed = set((await conn.execute(text("""
        SELECT DISTINCT stream_id FROM ledger.events WHERE occurred_at >= :cutoff AND event_type = ANY(:types)"""),
        changes)).scalars())
    standing = select(*PAST_ELEMENTS).where(indicators.c.registered_at < cutoff,
                                            *(indicators.c[k] == v for k, v in filters.items() if k in FOLD_FILTERS))
    keys = [c.key for c in PAST_ELEMENTS]
    fields: dict[str, dict[str, Any]] = {}
    for row in await conn.execute(standing):
        if f"indicator-{row.indicator_id}" not in changed:
            fields[row.indicator_id] = dict(zip(keys, row, strict=True))
    if changed:
        events = await conn.execute(text("""
            SELECT event_type, payload, occurred_at, metadata->>'actor' AS actor FROM ledger.events
            WHERE stream_id = ANY(:streams) AND occurred_at < :cutoff AND event_type = ANY(:types)
            ORDER BY position"""), {"streams": list(changed), "cutoff": cutoff, "types": types})
        _fold(events, fields, {k: v for k, v in filters.items() if k in FOLD_FILTERS})
    allocated: dict[str, Decimal] = {}
    for f in fields.values():
        if f["parent_id"]:
            allocated[f["parent_id"]] = allocated.get(f["parent_id"], ZERO) + f["amount"]
    paid, refunded = await spent_as_of(conn, list(fields), cutoff)
    scope = scope_clause(principal)
    visible = None if scope is None else set(
        (await conn.execute(select(indicators.c.indicator_id).where(scope))).scalars())
    return [
        LedgerRow(f, f["amount"], allocated.get(iid, ZERO), paid.get(iid, ZERO), refunded.get(iid, ZERO))
        for iid, f in fields.items()
        if _matches(f, filters) and (visible is None or iid in visible)
    ]


async def spent_as_of(conn: AsyncConnection, ids: list[str], cutoff: datetime
                      ) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """Paid and refunded on each of the indicators as the ledger had learned them by `cutoff`: their sums at the end
    of the last day they changed before the cutoff's (Beijing) day, and the facts recorded on that day before it."""
    day = cutoff.astimezone(SHANGHAI).date()
    start = datetime.combine(day, time.min, tzinfo=SHANGHAI)
    paid: dict[str, Decimal] = {}
    refunded: dict[str, Decimal] = {}
    for iid, p, r in await conn.execute(text("""
            SELECT n.indicator_id, before.paid, before.refunded FROM unnest(CAST(:ids AS text[])) AS n (indicator_id)
            JOIN LATERAL (SELECT paid, refunded FROM ledger.indicator_spending_days d
                          WHERE d.indicator_id = n.indicator_id AND d.day < :day
                          ORDER BY d.day DESC LIMIT 1) before ON true"""), {"ids": ids, "day": day}):
        paid[iid], refunded[iid] = p, r
    for facts, sums in ((payment_facts, paid), (refund_facts, refunded)):
        for iid, amount in await conn.execute(
                select(facts.c.indicator_id, func.sum(facts.c.amount))
                .where(facts.c.recorded_at >= start, facts.c.recorded_at < cutoff).group_by(facts.c.indicator_id)):
            sums[iid] = sums.get(iid, ZERO) + amount
    return paid, refunded


def totals(rows: list[LedgerRow]) -> dict[str, Decimal | int]:
    """What the rows hold together: received counts only rows whose parent is not among them."""
    ids = {r.fields["indicator_id"] for r in rows}
    received = sum((r.amount for r in rows if r.fields["parent_id"] not in ids), ZERO)
    return {
        "indicators": len(rows),
        "received": received,
        "allocated_out": sum((r.allocated for r in rows), ZERO) - (sum((r.amount for r in rows), ZERO) - received),
        "paid": sum((r.paid for r in rows), ZERO),
        "refunded": sum((r.refunded for r in rows), ZERO),
        "available": sum((r.available for r in rows), ZERO),
    }


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

