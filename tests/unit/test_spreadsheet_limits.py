"""A workbook is held to a number of rows, columns and cells before its reader allocates them."""

import io

import pytest
import xlsxwriter

from backbone.limited import InputBeyondLimits
from backbone.spreadsheets import MAX_COLUMNS, read_sheets


def workbook(*cells: str) -> bytes:
    buffer = io.BytesIO()
    with xlsxwriter.Workbook(buffer) as book:
        sheet = book.add_worksheet("名单")
        for cell in cells:
            sheet.write(cell, "x")
    return buffer.getvalue()


def test_a_sheet_that_says_it_reaches_xfd1048576_is_refused_with_its_size():
    with pytest.raises(InputBeyondLimits, match="1048576 rows and 16384 columns"):
        read_sheets(workbook("A1", "XFD1048576"), "bomb.xlsx")


def test_a_sheet_one_column_past_the_limit_is_refused_and_one_at_it_is_read():
    last = "IV1"  # column 256
    assert MAX_COLUMNS == 256
    [sheet] = read_sheets(workbook("A1", last), "wide.xlsx")
    assert len(next(sheet.rows)[1]) == 256
    with pytest.raises(InputBeyondLimits, match="257 columns"):
        read_sheets(workbook("A1", "IW1"), "wider.xlsx")
