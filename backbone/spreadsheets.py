"""Reading the tables finance staff upload (CSV or XLSX) into rows of cells, and reading single cells (the
workbooks FundWatch writes are in backbone/workbooks.py).

CSV is read as UTF-8 (BOM or not) or else as GB18030, which Excel on Chinese Windows saves.
Workbooks are read with calamine, sheet by sheet, so that a file of millions of rows is never
held as one list of Python objects.
"""

import codecs
import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import PurePath

from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from backbone.limited import InputBeyondLimits

Cell = str | int | float | bool | date | datetime | time | timedelta | None

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")
# The largest sheet read: Excel's own row limit, and more columns than any form of the seed has. calamine
# allocates every cell of the rectangle a sheet spans, so a sheet is also held to a number of cells (about
# 1 GiB of them at calamine's size per cell) below what the worker reading it may take.
MAX_ROWS = 1_048_576
MAX_COLUMNS = 256
MAX_CELLS = 32_000_000
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]{1,3})?(\d+)?(?::([A-Z]{1,3})(\d+))?"')


@dataclass(frozen=True)
class Sheet:
    """One table of a file: its rows from the first, each with its line number as the file shows it."""

    name: str
    rows: Iterator[tuple[int, list[Cell]]]


def read_sheets(data: bytes, filename: str) -> list[Sheet]:
    """The tables of a CSV file (one) or of a workbook (each visible worksheet); ValueError names the fault."""
    suffix = PurePath(filename).suffix.lower()
    if suffix == ".csv":
        return [Sheet(filename, enumerate(_csv_records(decode_text(data)), start=1))]
    if suffix in WORKBOOK_SUFFIXES:
        return _workbook_sheets(data)
    raise ValueError(f"expected a .csv or .xlsx file, got {filename!r}")


def decode_text(data: bytes) -> str:
    """The text of a CSV file: UTF-8 with or without BOM, or GB18030."""
    encodings = ("utf-8-sig",) if data.startswith(codecs.BOM_UTF8) else ("utf-8", "gb18030")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError("the file is neither UTF-8 nor GB18030 text")


def _csv_records(text: str) -> Iterator[list[Cell]]:
    try:
        yield from csv.reader(io.StringIO(text, newline=""))
    except csv.Error as exc:
        raise ValueError(f"the file is not valid CSV: {exc}") from exc


def _workbook_sheets(data: bytes) -> list[Sheet]:
    for rows, columns in _declared_spans(data):
        _within_limits(rows, columns, "a worksheet of the file declares")
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = [sheet.name for sheet in workbook.sheets_metadata
                 if sheet.typ == SheetTypeEnum.WorkSheet and sheet.visible == SheetVisibleEnum.Visible]
        if not names:
            raise ValueError("the workbook has no visible worksheet")
        return [Sheet(name, _sheet_rows(workbook, name)) for name in names]
    except CalamineError as exc:
        raise ValueError(f"the file is not a readable workbook: {exc}") from exc


def _sheet_rows(workbook: CalamineWorkbook, name: str) -> Iterator[tuple[int, list[Cell]]]:
    """Rows with the line and column positions Excel shows.

    calamine's `iter_rows` starts at row 1 but at the first used column; the test of workbooks
    with a margin holds this reading to the line numbers Excel shows.
    """
    try:
        sheet = workbook.get_sheet_by_name(name)
        if sheet.start is None:
            return
        _within_limits(sheet.total_height, sheet.total_width, f"the worksheet {name!r} spans")
        padding: list[Cell] = [None] * sheet.start[1]
        for offset, cells in enumerate(sheet.iter_rows()):
            yield offset + 1, padding + list(cells)
    except CalamineError as exc:
        raise ValueError(f"the worksheet {name!r} is not readable: {exc}") from exc


def _declared_spans(data: bytes) -> Iterator[tuple[int, int]]:
    """The rows and columns each worksheet of an XLSX file says it spans (its `<dimension ref>`), read before
    calamine allocates them. A file that leaves it out or understates it is still held by the worker's memory
    limit and by the check of the sheet calamine read; this one names the fault before anything is allocated."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        return
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for part in archive.namelist():
            if part.startswith("xl/worksheets/") and part.endswith(".xml"):
                with archive.open(part) as stream:
                    found = _DIMENSION.search(stream.read(4096))
                if found and found.group(3):
                    yield int(found.group(4)), _column_number(found.group(3).decode())


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def _within_limits(rows: int, columns: int, what: str) -> None:
    if rows > MAX_ROWS or columns > MAX_COLUMNS or rows * columns > MAX_CELLS:
        raise InputBeyondLimits(f"{what} {rows} rows and {columns} columns; a sheet is read up to {MAX_ROWS} rows, "
                         f"{MAX_COLUMNS} columns and {MAX_CELLS} cells")


def first_filled(rows: Iterator[tuple[int, list[Cell]]]) -> tuple[int, list[Cell]] | None:
    """The first row with something in it (a table's header; Excel files often start lower)."""
    return next(((line, cells) for line, cells in rows if not all(blank(c) for c in cells)), None)


def blank(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def header_key(header: str) -> str:
    """A header as compared: NFKC folds full-width brackets and letters, so 金额(元) and 金额（元） are one."""
    return "".join(unicodedata.normalize("NFKC", header).split())


def text(cell: Cell) -> str:
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))  # workbooks store every number as a float: 220102.0 is the code 220102
    return str(cell).strip()


def normal(cell: Cell) -> str:
    """The text with full-width digits and punctuation typed with a Chinese IME turned into ASCII."""
    return unicodedata.normalize("NFKC", text(cell))
