"""Keyset cursors and file downloads, as every list and export of the public API gives them; every exported
workbook names who exported it, when, who co-signed it and why (第二十七条)."""

import asyncio
import base64
import io
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import IO, Any
from urllib.parse import quote

import orjson
import xlsxwriter
from fastapi.responses import Response
from sqlalchemy import ColumnElement, Row, Select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection
from xlsxwriter.worksheet import Worksheet

from backbone.clock import clock
from backbone.errors import InvalidInput
from backbone.identity import ExportGrant, Principal
from backbone.storable_text import unstorable
from backbone.workdays import SHANGHAI
from contracts.values import DIVISIONS, ORG_UNITS, YUAN

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Beyond this a workbook is no way to read the data: an export asks for narrower filters instead.
MAX_EXPORT_ROWS = 200_000


def encode_cursor(key: Any, last_id: str) -> str:
    """An opaque cursor after the row with this sort key and id."""
    value = key.isoformat() if isinstance(key, datetime) else str(key)
    return base64.urlsafe_b64encode(orjson.dumps([value, last_id])).decode()


def decode_cursor(cursor: str) -> tuple[str, str]:
    """The sort key (as text) and id of a cursor; a bad one is a 422 naming `cursor`."""
    try:
        value, last_id = orjson.loads(base64.urlsafe_b64decode(cursor))
        value, last_id = str(value), str(last_id)
    except (ValueError, TypeError, orjson.JSONDecodeError) as exc:
        raise InvalidInput("the cursor is not valid", errors=[{"field": "cursor", "message": "not valid"}]) from exc
    # The storable-text guard cannot see inside base64: what goes into a query is checked here.
    if unstorable(value) or unstorable(last_id):
        raise InvalidInput("the cursor is not valid", errors=[{"field": "cursor", "message": "not valid"}])
    return value, last_id


async def newest_first(conn: AsyncConnection, query: Select[Any], at: ColumnElement[Any], key: ColumnElement[Any],
                       cursor: str | None, limit: int, *, integer_key: bool = False) -> tuple[list[Row[Any]], str | None]:
    """One page of `query`, newest first by (`at`, `key`), after a cursor: its rows, and the cursor of the next
    page (None on the last). The cursor stays stable while rows arrive (a keyset, not an offset)."""
    if cursor:
        instant, last = decode_cursor(cursor)
        query = query.where(tuple_(at, key) < (cursor_instant(instant), cursor_integer(last) if integer_key else last))
    rows = (await conn.execute(query.order_by(at.desc(), key.desc()).limit(limit + 1))).all()
    if len(rows) <= limit:
        return list(rows), None
    last_row = rows[limit - 1]._mapping
    return list(rows[:limit]), encode_cursor(last_row[at.key], str(last_row[key.key]))


def cursor_integer(text: str) -> int:
    """A cursor's sort key that is a whole number; a bad one is a 422 naming `cursor`."""
    if not (text.isascii() and text.isdigit()) or int(text) > 2**63 - 1:
        raise InvalidInput("the cursor is not valid", errors=[{"field": "cursor", "message": "not valid"}])
    return int(text)


def cursor_instant(value: str) -> datetime:
    """A cursor's sort key that is an instant; a bad one is a 422 naming `cursor`."""
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput("the cursor is not valid", errors=[{"field": "cursor", "message": "not valid"}]) from exc


def xlsx_download(content: bytes, ascii_stem: str, chinese_stem: str, made_at: datetime | None = None) -> Response:
    """An XLSX file named with its Chinese title and the Beijing time it was made (ASCII name for old clients)."""
    stamp = (made_at or clock().local_now()).astimezone(SHANGHAI).strftime("%Y%m%d-%H%M%S")
    return Response(content, media_type=XLSX, headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_stem}-{stamp}.xlsx\"; "
                               f"filename*=UTF-8''{quote(f'{chinese_stem}-{stamp}.xlsx')}"})


def money_cell(amount: Decimal) -> float | str:
    """An amount as a workbook cell: a number when the float reads back as the same amount to the fen, else the
    exact text."""
    number = float(amount)
    return number if Decimal(repr(number)).quantize(YUAN) == amount else format(amount, "f")


STAMP_SHEET = "导出说明"
BASIS = "《长春市财政扶贫资金动态监控工作规程》第二十七条：上报或对外提供监控平台数据信息时应会签局脱贫办"


def beijing(at: datetime) -> str:
    """An instant as Beijing time, to the second, for people reading a file."""
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def export_stamp(requester: Principal, grant: ExportGrant, exported_at: datetime) -> list[tuple[str, str]]:
    """What an exported file says about itself: who, when, co-signed by whom, what for, for whom."""
    unit = DIVISIONS.get(requester.division or "") or ORG_UNITS.get(requester.org_unit or "") or ""
    return [
        ("导出编号", grant.export_id),
        ("导出人", f"{grant.requester}（{unit}）" if unit else grant.requester),
        ("导出时间", f"{beijing(exported_at)}（北京时间）"),
        ("会签", f"{grant.cosigner}（局脱贫办） {beijing(grant.cosigned_at)}"),
        ("用途", grant.purpose),
        ("提供对象", grant.recipient or "内部使用"),
        ("依据", BASIS),
    ]


class StampedWorkbook(xlsxwriter.Workbook):
    """An export's workbook. The stamp goes on a sheet of its own, added last, rather than on a first line of
    each sheet: the data sheets keep their header in row 1 (the ledger export imports again, the 附件 forms keep
    the seed's layout) while the file still names its export. The document properties (author, comments) carry
    it too, and so does the footer of every printed page."""

    def __init__(self, target: str | IO[bytes], requester: Principal, exported_at: datetime,
                 options: dict[str, Any] | None = None) -> None:
        if requester.export is None:
            raise ValueError("an export workbook needs the export grant of its requester")
        super().__init__(target, options)
        self.stamp = export_stamp(requester, requester.export, exported_at)
        self.set_properties({"author": requester.subject, "created": exported_at.astimezone(UTC),
                             "comments": " ".join(f"{label}：{value}" for label, value in self.stamp[:6])})
        self.set_custom_property("导出编号", requester.export.export_id)
        # "&" starts a control code in Excel's footer language, and a footer holds at most 255 characters.
        footer = " ".join(f"{label}：{value}" for label, value in self.stamp[1:4]).replace("&", "＆")
        self._footer = f"&L{footer[:250]}"
        self._stamped = False

    def add_worksheet(self, name: str | None = None, worksheet_class: Any = None) -> Worksheet:
        sheet = super().add_worksheet(name, worksheet_class)
        sheet.set_footer(self._footer)
        return sheet

    def close(self) -> None:
        if not self._stamped and not self.fileclosed:
            self._stamped = True
            sheet = self.add_worksheet(STAMP_SHEET)
            sheet.set_column(0, 0, 12)
            sheet.set_column(1, 1, 80)
            label = self.add_format({"bold": True, "valign": "top"})
            value = self.add_format({"text_wrap": True, "valign": "top"})
            for row, (name, text) in enumerate(self.stamp):
                # write_string, never write: a purpose starting with "=" must not become a formula.
                sheet.write_string(row, 0, name, label)
                sheet.write_string(row, 1, text, value)
        super().close()


def stamped_xlsx(requester: Principal, fill: Callable[[xlsxwriter.Workbook], None], exported_at: datetime,
                 *, constant_memory: bool = False) -> bytes:
    """The bytes of an export's workbook: `fill` writes the data sheets, the stamp is added to them."""
    buffer = io.BytesIO()
    # Exported data stays inert text: a purpose or finding typed as "=…" or "http…" is no formula and no link.
    # constant_memory streams rows to temporary files, for exports too large to hold as cell objects.
    options = {"strings_to_formulas": False, "strings_to_urls": False,
               "constant_memory" if constant_memory else "in_memory": True}
    with StampedWorkbook(buffer, requester, exported_at, options) as book:
        fill(book)
    return buffer.getvalue()


async def export_rows(conn: AsyncConnection, query: Select[Any], *, narrow: str) -> list[Row[Any]]:
    """The rows of an export, never cut short without a word: more than MAX_EXPORT_ROWS is a 422 on the filter
    `narrow` names."""
    rows = (await conn.execute(query.limit(MAX_EXPORT_ROWS + 1))).all()
    if len(rows) > MAX_EXPORT_ROWS:
        raise InvalidInput(f"more than {MAX_EXPORT_ROWS} rows match: narrow the filters",
                           errors=[{"field": narrow, "message": f"more than {MAX_EXPORT_ROWS} rows match"}])
    return list(rows)


async def xlsx_export(requester: Principal, fill: Callable[[xlsxwriter.Workbook], None], ascii_stem: str,
                      chinese_stem: str, *, constant_memory: bool = False) -> Response:
    """The one way an export route answers: the workbook built off the event loop, stamped, as a download."""
    exported_at = clock().local_now()
    content = await asyncio.to_thread(stamped_xlsx, requester, fill, exported_at, constant_memory=constant_memory)
    return xlsx_download(content, ascii_stem, chinese_stem, exported_at)
