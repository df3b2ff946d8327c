"""Indicator files (CSV, XLSX) parse to exact IndicatorIn rows, or to every error with its row and column."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial

import pytest
import xlsxwriter

from backbone.identity import ExportGrant, Principal
from backbone.workbooks import stamped_xlsx
from services.ledger.domain import IndicatorIn
from services.ledger.export import write_ledger
from services.ledger.imports import parse_indicator_file

HEADER = ["指标文件号", "资金名称", "资金性质", "支出功能分类科目", "政府支出经济分类科目", "预算项目", "金额（元）",
          "预算年度", "指标来源", "发文日期", "接收日期", "主管处室", "单位", "扶贫资金标识"]
# As finance staff type it: labels, names, "code name", thousands separators, Chinese dates.
LABELLED = ["长财农指〔2026〕12号", "衔接推进乡村振兴补助资金", "一般公共预算", "2130504 农村基础设施建设", "50901",
            "产业发展", "1,234,567.89", "2026", "中央", "2026/2/10", "2026年2月12日", "农业处", "南关区", "是"]
# As a system exports it: codes and ISO dates.
CODED = ["吉财农〔2026〕3号", "以工代赈资金", "gov_fund", "21305", "509", "基础设施", "0.1", "2026年", "province",
         "2026-01-05", "", "agriculture", "220100", "N"]
EXPECTED = [
    IndicatorIn(doc_no="长财农指〔2026〕12号", fund_name="衔接推进乡村振兴补助资金", fund_nature="general_budget",
                function_code="2130504", economic_code="50901", budget_project="产业发展",
                amount=Decimal("1234567.89"), fiscal_year=2026, level="central", issued_on=date(2026, 2, 10),
                received_on=date(2026, 2, 12), owner_division="agriculture", org_unit="220102", poverty_tag=True),
    IndicatorIn(doc_no="吉财农〔2026〕3号", fund_name="以工代赈资金", fund_nature="gov_fund", function_code="21305",
                economic_code="509", budget_project="基础设施", amount=Decimal("0.10"), fiscal_year=2026,
                level="province", issued_on=date(2026, 1, 5), owner_division="agriculture", org_unit="220100",
                poverty_tag=False),
]


def csv_bytes(rows: list[list[str]], encoding: str) -> bytes:
    text = io.StringIO(newline="")
    csv.writer(text).writerows(rows)
    return text.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output)
    sheet = workbook.add_worksheet()
    dates = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, date):
                sheet.write_datetime(r, c, value, dates)
            elif isinstance(value, str):
                sheet.write_string(r, c, value)
            elif value is not None:
                sheet.write(r, c, value)
    workbook.close()
    return output.getvalue()


# Native cells as Excel stores them: numbers as floats, codes typed as numbers, dates as date cells.
XLSX_ROWS = [
    ["长财农指〔2026〕12号", "衔接推进乡村振兴补助资金", "一般公共预算", 2130504, 50901, "产业发展", 1234567.89, 2026,
     "中央", date(2026, 2, 10), date(2026, 2, 12), "农业处", 220102, True],
    ["吉财农〔2026〕3号", "以工代赈资金", "政府性基金预算", "21305", "509", "基础设施", 0.1, 2026, "省级",
     date(2026, 1, 5), None, "agriculture", "长春市本级", 0],
]


@pytest.mark.parametrize("data,filename", [
    pytest.param(csv_bytes([HEADER, LABELLED, CODED], "utf-8-sig"), "指标.csv", id="csv-utf8-bom"),
    pytest.param(csv_bytes([HEADER, LABELLED, CODED], "utf-8"), "指标.csv", id="csv-utf8"),
    pytest.param(csv_bytes([HEADER, LABELLED, CODED], "gb18030"), "指标.CSV", id="csv-gb18030"),
    pytest.param(xlsx_bytes([HEADER, *XLSX_ROWS]), "指标.xlsx", id="xlsx"),
])
def test_a_valid_file_parses_to_exact_indicators(data, filename):
    parsed = parse_indicator_file(data, filename)
    assert parsed.errors == []
    assert parsed.rows == EXPECTED
    assert [format(row.amount, "f") for row in parsed.rows] == ["1234567.89", "0.10"]


def test_every_bad_row_is_reported_with_its_row_and_column_and_nothing_is_imported():
    def bad(**changes: str) -> list[str]:
        return [changes.get(h, v) for h, v in zip(HEADER, LABELLED)]

    data = csv_bytes([HEADER, LABELLED,
                      bad(**{"金额（元）": "100.005"}),
                      bad(单位="长春市"),
                      bad(支出功能分类科目="2130597 不存在的科目"),
                      bad(发文日期="2026-02-30"),
                      bad(接收日期="下周"),
                      bad(**{"金额（元）": "1.2.3", "单位": "999999", "资金性质": "预算内"}),
                      bad(接收日期="2026-02-01")], "utf-8-sig")
    parsed = parse_indicator_file(data, "指标.csv")
    assert parsed.rows == []
    assert [(e["row"], e["column"]) for e in parsed.errors] == [
        (3, "金额（元）"), (4, "单位"), (5, "支出功能分类科目"), (6, "发文日期"), (7, "接收日期"),
        (8, "资金性质"), (8, "金额（元）"), (8, "单位"), (9, "接收日期"),
    ]
    messages = {(e["row"], e["column"]): e["message"] for e in parsed.errors}
    assert "more than 2 decimal places" in messages[3, "金额（元）"]
    assert messages[4, "单位"] == "unknown org unit '长春市'"
    assert messages[5, "支出功能分类科目"] == "unknown function code '2130597'"
    assert "received before the document was issued" in messages[9, "接收日期"]


@pytest.mark.parametrize("cell,expected", [
    pytest.param(1234.5, "1234.50", id="one-decimal"),
    pytest.param(100, "100.00", id="whole-number"),
    pytest.param(1234.567, None, id="three-decimals-is-refused"),
    pytest.param("１，０００．０５", "1000.05", id="full-width-text"),
    pytest.param("1,00", None, id="misplaced-separator-is-refused"),
])
def test_a_workbook_amount_is_read_exactly_or_refused(cell, expected):
    parsed = parse_indicator_file(xlsx_bytes([HEADER, [*XLSX_ROWS[0][:6], cell, *XLSX_ROWS[0][7:]]]), "指标.xlsx")
    assert [format(row.amount, "f") for row in parsed.rows] == ([expected] if expected else [])
    assert [(e["row"], e["column"]) for e in parsed.errors] == ([] if expected else [(2, "金额（元）")])


@pytest.mark.parametrize("header,column,message", [
    pytest.param([h for h in HEADER if h != "金额（元）"], "金额", "required column is missing", id="missing-required"),
    pytest.param([*HEADER, "备注"], "备注", "unknown column", id="unknown"),
    pytest.param([*HEADER, "金额"], "金额", "the same column as '金额（元）'", id="duplicate"),
])
def test_header_problems_are_row_one_errors(header, column, message):
    parsed = parse_indicator_file(csv_bytes([header, LABELLED], "utf-8"), "指标.csv")
    assert parsed.rows == []
    assert [(e["row"], e["column"]) for e in parsed.errors] == [(1, column)]
    assert parsed.errors[0]["message"].startswith(message)


@pytest.mark.parametrize("data,filename,message", [
    pytest.param(b"", "指标.csv", "the file is empty", id="empty"),
    pytest.param(b"\xff\xfe\x00", "指标.csv", "the file is neither UTF-8 nor GB18030 text", id="not-text"),
    pytest.param(b"PK\x03\x04broken", "指标.xlsx", "the file is not a readable workbook", id="broken-workbook"),
    pytest.param(b"%PDF-1.7", "指标.pdf", "expected a .csv or .xlsx file", id="wrong-type"),
])
def test_an_unreadable_file_is_one_error(data, filename, message):
    parsed = parse_indicator_file(data, filename)
    assert parsed.rows == []
    assert [(e["row"], e["column"]) for e in parsed.errors] == [(1, None)]
    assert parsed.errors[0]["message"].startswith(message)


def test_an_export_imports_back_to_the_same_indicators():
    indicators = [*EXPECTED, EXPECTED[0].model_copy(update={"amount": Decimal("999999999999.99"),
                                                            "issued_on": None, "received_on": None})]
    ledger = [row.model_dump() | {"indicator_id": f"id-{i}", "allocated": Decimal("0.01"),
                                  "paid": Decimal("12.30"), "refunded": Decimal("0.00"), "available": Decimal("1.00")}
              for i, row in enumerate(indicators)]
    now = datetime.now(UTC)
    exporter = Principal(subject="国库处-张", roles=["treasury"], export=ExportGrant(
        export_id="e-1", path="/ledger/export", requester="国库处-张", cosigner="脱贫办-李", cosigned_at=now,
        purpose="年度核对"))
    # The stamp sheet of the export does not get in the way.
    workbook = stamped_xlsx(exporter, partial(write_ledger, rows=ledger), now, constant_memory=True)
    parsed = parse_indicator_file(workbook, "台账.xlsx")
    assert parsed.errors == []
    assert parsed.rows == indicators


def test_a_hundred_thousand_rows_parse_without_error():
    rows = [HEADER] + [[f"长财农指〔2026〕{i}号", *LABELLED[1:6], f"{i * 1000 + i % 1000:,}.{i % 100:02d}", *LABELLED[7:]]
                       for i in range(1, 100_001)]
    parsed = parse_indicator_file(csv_bytes(rows, "utf-8-sig"), "指标.csv")
    assert parsed.errors == []
    assert len(parsed.rows) == 100_000 and parsed.rows[-1].amount == Decimal("100000000.00")
