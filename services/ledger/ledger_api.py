"""Routes of the master ledger (总台账) and the fund flow (穿透)."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from backbone.errors import InvalidInput, NotFound, fault
from backbone.identity import CurrentPrincipal, Principal
from backbone.pages import Page, PagingDep
from backbone.paging import cursor_instant, decode_cursor, encode_cursor
from backbone.service import RuntimeDep
from contracts.values import FiscalYear, Level, Money
from backbone.workdays import SHANGHAI
from services.ledger.domain import IndicatorIn
from services.ledger.ledger_view import LedgerRow, build_past, flow, indicators, ledger_page, ledger_totals

router = APIRouter(prefix="/api/v1", tags=["ledger"])
GroupBy = Literal["level", "owner_division", "org_unit", "budget_project", "function_code", "fiscal_year"]
SortField = Literal["registered_at", "-registered_at", "amount", "-amount", "available", "-available",
                    "doc_no", "-doc_no"]


class LedgerItem(IndicatorIn):
    id: str
    registered_on: date
    allocated: Money
    paid: Money
    refunded: Money
    available: Money
    context_only: bool = Field(False, description="A parent shown because the caller's indicators came from it; "
                               "outside the caller's scope, so not in the totals.")
    allocation_progress: Decimal = Field(description="allocated ÷ amount, 4 places")
    payment_progress: Decimal = Field(description="(paid − refunded) ÷ amount, 4 places")


class LedgerTotals(BaseModel):
    indicators: int
    received: Money = Field(description="Amounts of the rows whose parent is not among them (no double count).")
    allocated_out: Money = Field(description="What the rows passed to indicators outside them.")
    paid: Money
    refunded: Money
    available: Money


class LedgerGroup(BaseModel):
    key: str | int | None
    totals: LedgerTotals


class LedgerPage(Page[LedgerItem]):
    totals: LedgerTotals = Field(description="Over every row that matches, not only this page.")
    groups: list[LedgerGroup] | None = Field(None, description="Totals per value of `group_by`, when asked.")
    as_of: datetime | None = Field(description="The instant the rows stand at, when asked for a past one.")


def _ratio(part: Decimal, whole: Decimal) -> Decimal:
    return (part / whole).quantize(Decimal("0.0001")) if whole else Decimal("0")


def _item(row: LedgerRow, principal: Principal) -> LedgerItem:
    f = row.fields
    return LedgerItem(**{k: f[k] for k in IndicatorIn.model_fields if k in f}, id=f["indicator_id"],
                      context_only=not row.owned_by(principal),
                      registered_on=f["registered_on"], allocated=row.allocated, paid=row.paid,
                      refunded=row.refunded, available=row.available,
                      allocation_progress=_ratio(row.allocated, row.amount),
                      payment_progress=_ratio(row.paid - row.refunded, row.amount))


def _position(sort: str, cursor: str | None) -> tuple[Any, str] | None:
    """The (sort value, id) of the row a cursor was made after, typed as the sort field is."""
    if not cursor:
        return None
    field = sort.lstrip("-")
    value, last_id = decode_cursor(cursor)
    if field == "registered_at":
        return cursor_instant(value), last_id
    if field not in ("amount", "available"):
        return value, last_id
    try:
        key = Decimal(value)
        # NaN and infinities compare with nothing; no amount the ledger holds has more than 16 digits before the point.
        if not key.is_finite() or key.adjusted() > 16:
            raise ArithmeticError("not an amount of the ledger")
    except ArithmeticError as exc:
        raise InvalidInput("the cursor is not valid", errors=[fault("cursor", "not valid")]) from exc
    return key, last_id


def _cutoff(as_of: str) -> datetime:
    """The instant a past ledger stands at: the end of a Beijing day, or an explicit instant."""
    try:
        if len(as_of) == 10:
            return datetime.combine(date.fromisoformat(as_of) + timedelta(days=1), time.min, tzinfo=SHANGHAI)
        instant = datetime.fromisoformat(as_of)
    except (ValueError, OverflowError) as exc:
        raise InvalidInput("as_of is not a date or an instant",
                           errors=[fault("as_of", "use 2026-03-31 or 2026-03-31T18:00:00+08:00")]) from exc
    if instant.tzinfo is None:
        raise InvalidInput("as_of needs a UTC offset", errors=[fault("as_of", "add e.g. +08:00")])
    return instant


@router.get("/ledger", response_model=LedgerPage)
async def get_ledger(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    asked: PagingDep,
    fiscal_year: FiscalYear | None = None,
    org_unit: str | None = None,
    owner_division: str | None = None,
    level: Level | None = None,
    budget_project: str | None = None,
    function_code: str | None = None,
    sort: SortField = "-registered_at",
    as_of: str | None = Query(None, description="The ledger as it stood at the end of this day (Beijing time), "
                              "or at an instant with its UTC offset.", examples=["2026-03-31"]),
    group_by: GroupBy | None = Query(None, description="Roll the matching rows up by this element."),
) -> LedgerPage:
    """The master ledger: every indicator within scope with its standing, and totals. In the order `sort` names
    (newest registered first unless asked otherwise), then by id; the cursor is the last row's (sort value, id)."""
    given = {"fiscal_year": fiscal_year, "org_unit": org_unit, "owner_division": owner_division,
             "level": level.value if level else None, "budget_project": budget_project,
             "function_code": function_code}
    filters = {k: v for k, v in given.items() if v is not None}
    position = _position(sort, asked.cursor)
    field = sort.lstrip("-")
    cutoff = _cutoff(as_of) if as_of else None
    async with runtime.engine.connect() as conn:
        rows = indicators if cutoff is None else await build_past(conn, filters, cutoff)
        page, more = await ledger_page(conn, principal, filters, sort, position, asked.limit, rows)
        whole, by_key = await ledger_totals(conn, principal, filters, group_by, rows)
    groups = None if not group_by else [LedgerGroup(key=k, totals=LedgerTotals(**v))
                                         for k, v in sorted(by_key.items(), key=lambda kv: str(kv[0]))]
    return LedgerPage(
        items=[_item(r, principal) for r in page], totals=LedgerTotals(**whole), as_of=cutoff, groups=groups,
        next_cursor=encode_cursor(page[-1].sort_key(field), page[-1].fields["indicator_id"]) if more else None,
    )


@router.get("/indicators/{indicator_id}/flow")
async def get_flow(indicator_id: str, principal: CurrentPrincipal, runtime: RuntimeDep) -> dict[str, Any]:
    """The fund flow (穿透): the indicator, every allocation below it, and the payments on each node."""
    async with runtime.engine.connect() as conn:
        tree = await flow(conn, indicator_id)
    if tree is None or not principal.can_see(org_unit=tree["org_unit"], owner_division=tree["owner_division"]):
        raise NotFound(f"indicator {indicator_id} does not exist")
    return tree
