"""Bulk import of budget indicators (预算指标) from CSV or XLSX: parsing and validation, no database."""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from backbone.clock import clock
from backbone.errors import InvalidInput, fault
from backbone.spreadsheets import Cell, first_filled, blank, header_key, normal, read_sheets, text
from contracts.values import CITY_ORG_UNIT, DIVISIONS, ORG_UNITS, FundNature, Level, money
from services.ledger.domain import IndicatorIn, register_indicator

# Header as finance staff write it → IndicatorIn field; the first header of a field is the one exports write.
HEADERS: dict[str, str] = {
    "指标文件号": "doc_no",
    "资金名称": "fund_name",
    "资金性质": "fund_nature",
    "支出功能分类科目": "function_code",
    "政府支出经济分类科目": "economic_code",
    "经济分类科目": "economic_code",
    "预算项目": "budget_project",
    "金额": "amount",
    "金额（元）": "amount",
    "预算年度": "fiscal_year",
    "年度": "fiscal_year",
    "指标来源": "level",
    "级次": "level",
    "发文日期": "issued_on",
    "印发日期": "issued_on",
    "接收日期": "received_on",
    "主管处室": "owner_division",
    "单位": "org_unit",
    "区划": "org_unit",
    "行政区划": "org_unit",
    "扶贫资金标识": "poverty_tag",
}
COLUMN_OF: dict[str, str] = {name: next(h for h, n in HEADERS.items() if n == name) for name in HEADERS.values()}

# Columns an export adds from the ledger; they describe existing indicators, so an import skips them.
LEDGER_COLUMNS: dict[str, str] = {
    "indicator_id": "指标编号", "allocated": "已分配", "paid": "已支付", "refunded": "已退回",
    "available": "可用余额",
}

FUND_NATURES: dict[str, FundNature] = {
    "一般公共预算": FundNature.GENERAL_BUDGET, "政府性基金预算": FundNature.GOV_FUND,
    "国有资本经营预算": FundNature.STATE_CAPITAL, "其他": FundNature.OTHER,
}
LEVELS: dict[str, Level] = {"中央": Level.CENTRAL, "省级": Level.PROVINCE, "市级": Level.CITY, "区级": Level.DISTRICT}
FLAGS: dict[str, bool] = {"是": True, "否": False, "y": True, "n": False, "1": True, "0": False,
                          "true": True, "false": False}
REQUIRED = frozenset(name for name, info in IndicatorIn.model_fields.items() if info.is_required())

LEADING_DIGITS = re.compile(r"[0-9]+")
AMOUNT = re.compile(r"-?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?")
# A trailing time is allowed because spreadsheets export date cells as "2026-02-10 00:00:00".
DATE = re.compile(r"([0-9]{4})[-/.年]([0-9]{1,2})[-/.月]([0-9]{1,2})日?"
                  r"(?:\s+[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?)?")

# Valid values for fields that already failed, so the domain rules still judge the fields that did not.
STAND_INS: dict[str, Any] = {
    "doc_no": "-", "fund_name": "-", "fund_nature": FundNature.OTHER, "function_code": "2130504",
    "economic_code": "50901", "budget_project": "-", "amount": Decimal("1.00"), "fiscal_year": 2026,
    "level": Level.CITY, "issued_on": None, "received_on": None, "owner_division": "agriculture",
    "org_unit": CITY_ORG_UNIT, "poverty_tag": True, "parent_id": None,
}


@dataclass
class ParsedImport:
    """The valid rows of an indicator file, or every error in it (then `rows` is empty)."""

    rows: list[IndicatorIn] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    line_numbers: list[int] = field(default_factory=list)
    # Each row's 指标编号 when the file carries one (an export): that indicator, never a new one.
    indicator_ids: list[str | None] = field(default_factory=list)


def parse_indicator_file(data: bytes, filename: str) -> ParsedImport:
    """Rows and every error of an indicator file; the caller imports nothing unless `errors` is empty."""
    try:
        rows = read_sheets(data, filename)[0].rows
        first = first_filled(rows)
    except ValueError as exc:
        return ParsedImport(errors=[fault(None, str(exc), row=1, column=None)])
    if first is None:
        return ParsedImport(errors=[fault(None, "the file is empty", row=1, column=None)])
    header_line, header = first
    columns, errors = _columns(header_line, header)
    if errors:
        return ParsedImport(errors=errors)
    today = clock().today()  # only the discarded event's registration date depends on it
    id_column = next((i for i, cell in enumerate(header)
                      if not blank(cell) and header_key(text(cell)) == header_key(LEDGER_COLUMNS["indicator_id"])),
                     None)
    parsed = ParsedImport()
    try:
        for number, cells in rows:
            if all(blank(cell) for cell in cells):
                continue  # Excel keeps formatted empty rows below the data
            row, problems = _validate(number, cells, columns, today)
            if row is not None:
                parsed.rows.append(row)
                parsed.line_numbers.append(number)
                given = cells[id_column] if id_column is not None and id_column < len(cells) else None
                parsed.indicator_ids.append(None if blank(given) else text(given))
            errors += problems
    except ValueError as exc:
        errors.append(fault(None, str(exc), row=None, column=None))
    return ParsedImport(errors=errors) if errors else parsed


def _columns(line: int, header: Sequence[Cell]) -> tuple[list[tuple[int, str, str]], list[dict[str, Any]]]:
    """(position, header as written, field) of each known column, and the errors of the header row."""
    columns: list[tuple[int, str, str]] = []
    errors: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    known = {header_key(h): name for h, name in HEADERS.items()}
    skipped = {header_key(h) for h in LEDGER_COLUMNS.values()}
    for position, cell in enumerate(header):
        if blank(cell):
            continue  # Excel keeps formatted empty columns to the right of the data
        written = text(cell)
        name = known.get(header_key(written))
        if name is None:
            if header_key(written) not in skipped:
                errors.append(fault(None, "unknown column; the columns are " + "、".join(COLUMN_OF.values()), row=line, column=written))
        elif name in seen:
            errors.append(fault(None, f"the same column as {seen[name]!r}", row=line, column=written))
        else:
            seen[name] = written
            columns.append((position, written, name))
    errors += [fault(None, "required column is missing", row=line, column=COLUMN_OF[name])
               for name in sorted(REQUIRED - seen.keys(), key=list(COLUMN_OF).index)]
    return columns, errors


def _validate(number: int, cells: Sequence[Cell], columns: list[tuple[int, str, str]],
              today: date) -> tuple[IndicatorIn | None, list[dict[str, Any]]]:
    """One data row as an IndicatorIn, checked by the schema and the domain; the first problem of each field."""
    values: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for position, _, name in columns:
        cell = cells[position] if position < len(cells) else None
        if blank(cell):
            continue
        try:
            values[name] = CONVERTERS[name](cell)
        except ValueError as exc:
            problems[name] = str(exc)
    row: IndicatorIn | None
    try:
        row = IndicatorIn.model_validate(values)
    except ValidationError as exc:
        row = None
        for err in exc.errors():
            problems.setdefault(str(err["loc"][0]), "a value is required" if err["type"] == "missing" else err["msg"])
    fields = row.model_dump() if row else STAND_INS | {k: v for k, v in values.items() if k not in problems}
    try:
        register_indicator(indicator_id="import", fields=fields, today=today)
    except InvalidInput as exc:
        for err in exc.extra["errors"]:
            problems.setdefault(err["field"], err["message"])
    if not problems:
        return row, []
    where = {name: (position, written) for position, written, name in columns}
    located = sorted((where.get(name, (len(cells), COLUMN_OF.get(name, name))), message)
                     for name, message in problems.items())
    return None, [fault(None, message, row=number, column=written) for (_, written), message in located]


def _code(cell: Cell) -> str:
    """The leading digits of a classification code, as in "2130504 农村基础设施建设"."""
    found = LEADING_DIGITS.match(normal(cell))
    if found is None:
        raise ValueError(f"expected a code such as 2130504, got {text(cell)!r}")
    return found.group()


def _amount(cell: Cell) -> Decimal:
    """An exact amount in 元; a workbook number is read through repr, the shortest text of that float."""
    if isinstance(cell, bool):
        raise ValueError(f"expected an amount, got {cell!r}")
    if isinstance(cell, int | float):
        written = repr(cell)
    else:
        written = normal(cell).replace(" ", "")
        if not AMOUNT.fullmatch(written):
            raise ValueError(f"expected an amount such as 1,234.56, got {text(cell)!r}")
        written = written.replace(",", "")
    try:
        return money(written)
    except InvalidOperation as exc:
        raise ValueError(f"amount {written} is out of range") from exc


def _year(cell: Cell) -> int:
    written = normal(cell).removesuffix("年")
    if not (written.isascii() and written.isdigit()):
        raise ValueError(f"expected a year such as 2026, got {text(cell)!r}")
    return int(written)


def _date(cell: Cell) -> date:
    """A date cell, or text as 2026-02-10, 2026/2/10 or 2026年2月10日."""
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    found = DATE.fullmatch(normal(cell))
    if found is None:
        raise ValueError(f"expected a date such as 2026-02-10, got {text(cell)!r}")
    try:
        return date(*map(int, found.groups()))
    except ValueError as exc:
        raise ValueError(f"{text(cell)!r} is not a date: {exc}") from exc


def _flag(cell: Cell) -> bool:
    if isinstance(cell, bool):
        return cell
    flag = FLAGS.get(text(cell).lower())
    if flag is None:
        raise ValueError(f"expected 是 or 否, got {text(cell)!r}")
    return flag


def _choice(labels: dict[str, Any], what: str) -> Callable[[Cell], Any]:
    """A converter that accepts a Chinese label or its code."""
    codes = {str(code): code for code in labels.values()}

    def convert(cell: Cell) -> Any:
        written = text(cell)
        if written in labels:
            return labels[written]
        if written in codes:
            return codes[written]
        raise ValueError(f"unknown {what} {written!r}: expected {'、'.join(labels)}")

    return convert


def _named(names: dict[str, str]) -> Callable[[Cell], str]:
    """A converter that turns a Chinese name into its code; anything else is left for the domain rules to judge."""
    codes = {name: code for code, name in names.items()}

    def convert(cell: Cell) -> str:
        written = text(cell)
        return codes.get(written, written)

    return convert


CONVERTERS: dict[str, Callable[[Cell], Any]] = {
    "doc_no": text, "fund_name": text, "budget_project": text,
    "fund_nature": _choice(FUND_NATURES, "资金性质"), "level": _choice(LEVELS, "指标来源"),
    "function_code": _code, "economic_code": _code, "amount": _amount, "fiscal_year": _year,
    "issued_on": _date, "received_on": _date, "owner_division": _named(DIVISIONS), "org_unit": _named(ORG_UNITS),
    "poverty_tag": _flag,
}
