"""The ledger export (总台账): the route, and the XLSX sheet it writes under the headers the indicator import reads
back; only as a co-signed export."""

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

import xlsxwriter
from fastapi import APIRouter
from fastapi.responses import Response
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from backbone.identity import ExportingPrincipal
from backbone.workbooks import XLSX, money_cell, xlsx_export
from backbone.service import RuntimeDep
from contracts.reference import economic_code_name, function_code_name
from contracts.values import DIVISIONS, ORG_UNITS, FiscalYear
from services.ledger.imports import COLUMN_OF, FUND_NATURES, LEDGER_COLUMNS, LEVELS
from services.ledger.ledger_view import live_rows

router = APIRouter(prefix="/api/v1", tags=["ledger"])


@router.get("/ledger/export", response_class=Response,
            responses={200: {"content": {XLSX: {}}, "description": "The ledger within the caller's scope."}})
async def export_ledger(principal: ExportingPrincipal, runtime: RuntimeDep, fiscal_year: FiscalYear | None = None,
                        org_unit: str | None = None, owner_division: str | None = None) -> Response:
    """The master ledger as XLSX with Chinese headers (re-importable); only as a co-signed export."""
    filters = {k: v for k, v in {"fiscal_year": fiscal_year, "org_unit": org_unit,
                                 "owner_division": owner_division}.items() if v is not None}
    async with runtime.engine.connect() as conn:
        rows = await live_rows(conn, principal, filters)
    # Only the caller's own indicators leave in an export, not the parents shown for context.
    owned = [{**r.fields, "amount": r.amount, "allocated": r.allocated, "paid": r.paid, "refunded": r.refunded,
              "available": r.available} for r in rows if r.owned_by(principal)]
    return await xlsx_export(principal, partial(write_ledger, rows=owned), "ledger", "总台账", constant_memory=True)


NATURE_LABELS = {code: label for label, code in FUND_NATURES.items()}
LEVEL_LABELS = {code: label for label, code in LEVELS.items()}

Writer = Callable[[Worksheet, int, int, Any, dict[str, Format]], None]


def _text(sheet: Worksheet, row: int, col: int, value: Any, _: dict[str, Format]) -> None:
    # write_string, never write: a fund name starting with "=" must not become a formula.
    sheet.write_string(row, col, str(value))


def _labelled(labels: dict[str, str]) -> Writer:
    """A writer of a code as its Chinese label, which the import maps back to the code."""
    def write(sheet: Worksheet, row: int, col: int, value: Any, formats: dict[str, Format]) -> None:
        _text(sheet, row, col, labels.get(value, value), formats)

    return write


def _coded(name_of: Callable[[str], str | None]) -> Writer:
    """A writer of a classification code followed by its name, as "2130504 农村基础设施建设"."""
    def write(sheet: Worksheet, row: int, col: int, value: Any, formats: dict[str, Format]) -> None:
        name = name_of(value)
        _text(sheet, row, col, f"{value} {name}" if name else value, formats)

    return write


def _money(sheet: Worksheet, row: int, col: int, value: Any, formats: dict[str, Format]) -> None:
    cell = money_cell(Decimal(value))
    if isinstance(cell, float):
        sheet.write_number(row, col, cell, formats["money"])
    else:
        sheet.write_string(row, col, cell, formats["text_right"])


def _date(sheet: Worksheet, row: int, col: int, value: date, formats: dict[str, Format]) -> None:
    sheet.write_datetime(row, col, value, formats["date"])


def _year(sheet: Worksheet, row: int, col: int, value: int, _: dict[str, Format]) -> None:
    sheet.write_number(row, col, value)


def _flag(sheet: Worksheet, row: int, col: int, value: bool, formats: dict[str, Format]) -> None:
    _text(sheet, row, col, "是" if value else "否", formats)


# (field, header, width in characters, writer), in the order of the sheet.
COLUMNS: tuple[tuple[str, str, int, Writer], ...] = (
    ("indicator_id", LEDGER_COLUMNS["indicator_id"], 38, _text),
    ("doc_no", COLUMN_OF["doc_no"], 24, _text),
    ("fund_name", COLUMN_OF["fund_name"], 30, _text),
    ("fund_nature", COLUMN_OF["fund_nature"], 16, _labelled(NATURE_LABELS)),
    ("function_code", COLUMN_OF["function_code"], 30, _coded(function_code_name)),
    ("economic_code", COLUMN_OF["economic_code"], 26, _coded(economic_code_name)),
    ("budget_project", COLUMN_OF["budget_project"], 24, _text),
    ("amount", COLUMN_OF["amount"], 18, _money),
    ("fiscal_year", COLUMN_OF["fiscal_year"], 10, _year),
    ("level", COLUMN_OF["level"], 10, _labelled(LEVEL_LABELS)),
    ("issued_on", COLUMN_OF["issued_on"], 12, _date),
    ("received_on", COLUMN_OF["received_on"], 12, _date),
    ("owner_division", COLUMN_OF["owner_division"], 14, _labelled(DIVISIONS)),
    ("org_unit", COLUMN_OF["org_unit"], 28, _labelled(ORG_UNITS)),
    ("poverty_tag", COLUMN_OF["poverty_tag"], 14, _flag),
    ("allocated", LEDGER_COLUMNS["allocated"], 18, _money),
    ("paid", LEDGER_COLUMNS["paid"], 18, _money),
    ("refunded", LEDGER_COLUMNS["refunded"], 18, _money),
    ("available", LEDGER_COLUMNS["available"], 18, _money),
)


def write_ledger(workbook: xlsxwriter.Workbook, rows: list[dict[str, Any]]) -> None:
    """The ledger rows as a sheet of the workbook, with a frozen header row."""
    formats = {
        "header": workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1}),
        "money": workbook.add_format({"num_format": "#,##0.00"}),
        "text_right": workbook.add_format({"align": "right"}),
        "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
    }
    sheet = workbook.add_worksheet("指标台账")
    sheet.freeze_panes(1, 0)
    for col, (_, header, width, _) in enumerate(COLUMNS):
        sheet.set_column(col, col, width)
        sheet.write_string(0, col, header, formats["header"])
    for number, row in enumerate(rows, start=1):
        for col, (name, _, _, write) in enumerate(COLUMNS):
            if row.get(name) is not None:
                write(sheet, number, col, row[name], formats)
