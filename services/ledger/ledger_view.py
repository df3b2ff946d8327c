"""The master ledger (总台账): one row per indicator with its standing, now or as of a past date,
within the caller's scope, and the fund flow (穿透) from an indicator down to its payments.

The live rows come from the read models; `as_of` rebuilds them by folding the ledger's own
events up to that moment (and the payments the ledger had learned of by then), never from a
second copy of the ledger.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Text, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.identity import Principal
from contracts.ledger import IndicatorAdjusted, IndicatorCorrected, IndicatorRegistered
from services.ledger.domain import typed_changes
from services.ledger.projections import indicators, payment_facts, refund_facts, spending

ZERO = Decimal("0.00")
FILTERS = ("fiscal_year", "org_unit", "owner_division", "level", "budget_project", "function_code")
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


async def live_rows(conn: AsyncConnection, principal: Principal, filters: dict[str, Any]) -> list[LedgerRow]:
    """The ledger now, from the read models."""
    children = indicators.alias("children")
    allocated = (select(children.c.parent_id, func.sum(children.c.amount).label("allocated"))
                 .group_by(children.c.parent_id).subquery())
    query = (select(indicators, func.coalesce(allocated.c.allocated, 0).label("allocated_sum"),
                    func.coalesce(spending.c.paid, 0).label("paid_sum"),
                    func.coalesce(spending.c.refunded, 0).label("refunded_sum"))
             .outerjoin(allocated, allocated.c.parent_id == indicators.c.indicator_id)
             .outerjoin(spending, spending.c.indicator_id == indicators.c.indicator_id)
             .where(*(indicators.c[k] == v for k, v in filters.items())))
    scope = scope_clause(principal)
    if scope is not None:
        query = query.where(scope)
    rows = (await conn.execute(query)).all()
    return [LedgerRow({k: r._mapping[k] for k in indicators.c.keys()}, r.amount, Decimal(r.allocated_sum),
                      Decimal(r.paid_sum), Decimal(r.refunded_sum)) for r in rows]


async def rows_as_of(conn: AsyncConnection, principal: Principal, filters: dict[str, Any],
                     cutoff: datetime) -> list[LedgerRow]:
    """The ledger as it stood at `cutoff`, folded from events."""
    fixed = {k: str(v) for k, v in filters.items() if k in FOLD_FILTERS}
    narrowing = "".join(f" AND (event_type <> :registered OR payload->>'{k}' = :{k})" for k in fixed)
    events = await conn.execute(text(f"""
        SELECT event_type, payload, version, occurred_at, metadata->>'actor' AS actor FROM ledger.events
        WHERE occurred_at < :cutoff AND event_type = ANY(:types){narrowing} ORDER BY position"""),
        {"cutoff": cutoff, "registered": IndicatorRegistered.event_type, **fixed,
         "types": [IndicatorRegistered.event_type, IndicatorAdjusted.event_type, IndicatorCorrected.event_type]})
    fields: dict[str, dict[str, Any]] = {}
    for event_type, payload, version, occurred_at, actor in events:
        if event_type == IndicatorRegistered.event_type:
            e = IndicatorRegistered.model_validate(payload)
            fields[e.indicator_id] = {**e.model_dump(), "version": version, "registered_by": actor,
                                      "registered_at": occurred_at}
        elif payload["indicator_id"] not in fields:
            continue  # an indicator the filters left out
        elif event_type == IndicatorCorrected.event_type:
            c = IndicatorCorrected.model_validate(payload)
            fields[c.indicator_id] |= typed_changes(c.changes) | {"version": version}
        else:
            a = IndicatorAdjusted.model_validate(payload)
            fields[a.indicator_id] |= {"amount": a.amount_after, "version": version}
    allocated: dict[str, Decimal] = {}
    for f in fields.values():
        if f["parent_id"]:
            allocated[f["parent_id"]] = allocated.get(f["parent_id"], ZERO) + f["amount"]
    paid = dict((await conn.execute(
        select(payment_facts.c.indicator_id, func.sum(payment_facts.c.amount))
        .where(payment_facts.c.recorded_at < cutoff).group_by(payment_facts.c.indicator_id))).tuples().all())
    refunded = dict((await conn.execute(
        select(refund_facts.c.indicator_id, func.sum(refund_facts.c.amount))
        .where(refund_facts.c.recorded_at < cutoff).group_by(refund_facts.c.indicator_id))).tuples().all())
    scope = scope_clause(principal)
    visible = None if scope is None else set(
        (await conn.execute(select(indicators.c.indicator_id).where(scope))).scalars())
    return [
        LedgerRow({k: f.get(k) for k in indicators.c.keys()}, f["amount"], allocated.get(iid, ZERO),
                  Decimal(paid.get(iid, ZERO)), Decimal(refunded.get(iid, ZERO)))
        for iid, f in fields.items()
        if _matches(f, filters) and (visible is None or iid in visible)
    ]


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

