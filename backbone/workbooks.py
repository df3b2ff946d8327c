"""Workbooks FundWatch writes: exports, as every export route gives them, each naming who exported it, when,
who co-signed it and why (第二十七条); and the seed's application forms (附件1–3)."""

import asyncio
import io
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import IO, Any
from urllib.parse import quote

import xlsxwriter
from fastapi.responses import Response
from sqlalchemy import Row, Select
from sqlalchemy.ext.asyncio import AsyncConnection
from xlsxwriter.worksheet import Worksheet

from backbone.clock import clock
from backbone.errors import InvalidInput, fault
from backbone.identity import ExportGrant, Principal
from backbone.spreadsheets import Cell
from backbone.workdays import SHANGHAI
from contracts.values import DIVISIONS, ORG_UNITS, YUAN

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Beyond this a workbook is no way to read the data: an export asks for narrower filters instead.
MAX_EXPORT_ROWS = 200_000


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
                           errors=[fault(narrow, f"more than {MAX_EXPORT_ROWS} rows match")])
    return list(rows)


async def xlsx_export(requester: Principal, fill: Callable[[xlsxwriter.Workbook], None], ascii_stem: str,
                      chinese_stem: str, *, constant_memory: bool = False) -> Response:
    """The one way an export route answers: the workbook built off the event loop, stamped, as a download."""
    exported_at = clock().local_now()
    content = await asyncio.to_thread(stamped_xlsx, requester, fill, exported_at, constant_memory=constant_memory)
    return xlsx_download(content, ascii_stem, chinese_stem, exported_at)


def write_seed_form(book: xlsxwriter.Workbook, title: str, headers: list[str], rows: list[list[Cell]],
                    notes: list[str]) -> None:
    """A form as the seed prints it, on a sheet of `book`: title, 单位 and date, the table, 填报人 / 联系电话 and
    the notes."""
    sheet = book.add_worksheet("申请表")
    bold = book.add_format({"bold": True})
    sheet.write(0, 0, title, book.add_format({"bold": True, "font_size": 14}))
    sheet.write(1, 0, "单位：（盖章）")
    sheet.write(1, len(headers) - 1, clock().local_now().strftime("%Y年%m月%d日"))
    sheet.write_row(2, 0, headers, bold)
    for i, row in enumerate(rows, start=3):
        sheet.write_row(i, 0, row)
    end = 3 + len(rows)
    sheet.write(end + 1, 0, "填报人：")
    sheet.write(end + 2, 0, "联系电话：")
    for j, note in enumerate(notes):
        sheet.write(end + 3 + j, 0, note)


def seed_form(title: str, headers: list[str], rows: list[list[Cell]], notes: list[str]) -> bytes:
    """The bytes of a workbook holding one seed form."""
    buffer = io.BytesIO()
    # Typed-in text stays inert: a remark starting with "=" is no formula, "http…" no link.
    with xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                      "strings_to_urls": False}) as book:
        write_seed_form(book, title, headers, rows, notes)
    return buffer.getvalue()


def report_form(title: str, stamp: list[tuple[str, str]], sections: list[tuple[str, list[str], list[list[Cell]]]],
                signatures: list[str]) -> bytes:
    """A report as a finance office hands it in, on one printable sheet: the title, its stamp lines (填报单位,
    填报人, 日期…), each section with its table, and the signature lines (签字) at the foot."""
    buffer = io.BytesIO()
    with xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                      "strings_to_urls": False}) as book:
        sheet = book.add_worksheet("月报")
        sheet.set_landscape()
        sheet.set_paper(9)  # A4
        sheet.fit_to_pages(1, 0)
        sheet.set_column(0, 9, 16)
        bold = book.add_format({"bold": True})
        wrap = book.add_format({"text_wrap": True, "valign": "top"})
        sheet.write_string(0, 0, title, book.add_format({"bold": True, "font_size": 16}))
        row = 2
        for label, value in stamp:
            sheet.write_string(row, 0, f"{label}：", bold)
            sheet.write_string(row, 1, value)
            row += 1
        for heading, headers, rows in sections:
            row += 1
            sheet.write_string(row, 0, heading, bold)
            row += 1
            if headers:
                sheet.write_row(row, 0, headers, bold)
                row += 1
            for cells in rows:
                for col, cell in enumerate(cells):
                    sheet.write(row, col, cell, wrap)
                row += 1
        row += 1
        for line in signatures:
            row += 1
            sheet.write_string(row, 0, line, bold)
        sheet.print_area(0, 0, row, 9)
    return buffer.getvalue()
