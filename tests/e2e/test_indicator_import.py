"""Bulk import (CSV / XLSX, Chinese headers): all or nothing, twice is once; export round trip."""

import asyncio
import csv
import hashlib
import io
from decimal import Decimal
from uuid import NAMESPACE_URL, uuid4, uuid5

import pytest

from services.ledger.bulk_api import IMPORT_PART_ROWS
from services.ledger.imports import parse_indicator_file
from tests.e2e import db
from tests.e2e.exporting import co_signed_export

pytestmark = pytest.mark.e2e
HEADER = ["指标文件号", "资金名称", "资金性质", "支出功能分类科目", "政府支出经济分类科目", "预算项目", "金额（元）",
          "预算年度", "指标来源", "发文日期", "接收日期", "主管处室", "单位", "扶贫资金标识"]


def csv_file(rows: list[list[str]]) -> bytes:
    text = io.StringIO(newline="")
    csv.writer(text).writerows([HEADER, *rows])
    return text.getvalue().encode("utf-8-sig")


def row(project: str, amount: str, unit: str = "南关区", code: str = "2130504 农村基础设施建设") -> list[str]:
    return ["长财农指〔2026〕40号", "衔接推进乡村振兴补助资金", "一般公共预算", code, "50901", project, amount,
            "2026", "中央", "2026/2/10", "2026年2月12日", "农业处", unit, "是"]


def test_import_is_all_or_nothing_and_idempotent_and_the_export_reimports(stack):
    admin = stack.admin_headers()
    project = f"import-{uuid4().hex[:6]}"
    with stack.client() as c:
        # A file with two bad rows: every error, by row and column, and nothing imported.
        bad = csv_file([row(project, "100.00"), row(project, "1.005"), row(project, "5.00", unit="火星区")])
        r = c.post("/indicators/import", headers=admin, files={"file": ("指标.csv", bad, "text/csv")})
        assert r.status_code == 422, r.text
        assert sorted((e["row"], e["column"]) for e in r.json()["errors"]) == [(3, "金额（元）"), (4, "单位")]
        assert c.get("/ledger", params={"budget_project": project}, headers=admin).json()["items"] == []

        good = csv_file([row(project, "1,000.00"), row(project, "250.50", unit="宽城区")])
        first = c.post("/indicators/import", headers=admin, files={"file": ("指标.csv", good)}).json()
        again = c.post("/indicators/import", headers=admin, files={"file": ("指标.csv", good)}).json()
        assert (first["imported"], first["duplicates"]) == (2, 0)
        assert (again["imported"], again["duplicates"], again["ids"]) == (0, 2, first["ids"])
        ledger = c.get("/ledger", params={"budget_project": project, "sort": "-amount"}, headers=admin).json()
        assert [(i["amount"], i["org_unit"]) for i in ledger["items"]] == [("1000.00", "220102"), ("250.50", "220103")]

        export = co_signed_export(c, admin, "/ledger/export", {"org_unit": "220103"})
        assert export.status_code == 200 and export.headers["content-type"].startswith("application/vnd.openxmlformats")
        # Importing an export back names the same indicators: nothing is counted twice.
        back = c.post("/indicators/import", headers=admin, files={"file": ("总台账.xlsx", export.content)}).json()
        assert back["imported"] == 0 and ledger["items"][1]["id"] in back["ids"]
    parsed = parse_indicator_file(export.content, "总台账.xlsx")
    assert parsed.errors == []
    mine = [r for r in parsed.rows if r.budget_project == project]
    assert [(r.amount, r.org_unit, r.function_code) for r in mine] == [(Decimal("250.50"), "220103", "2130504")]


def test_a_failure_part_way_keeps_the_parts_written_and_the_same_file_again_writes_the_rest(stack, servers):
    """A file is written in parts, each its own transaction, so that a big import never holds every event
    feed (alert streams) back until it commits."""
    admin = stack.admin_headers()
    project = f"parts-{uuid4().hex[:6]}"
    rows = 2 * IMPORT_PART_ROWS + 1
    data = csv_file([row(project, f"{n + 1}.00") for n in range(rows)])
    # Row ids follow from the file: the database refuses one row of the second part, as if it had gone away.
    digest = hashlib.sha256(data).hexdigest()
    refused = uuid5(NAMESPACE_URL, f"fundwatch:import:{digest}:{IMPORT_PART_ROWS + 7}")
    asyncio.run(db.execute(servers.database_url, f"""
        CREATE FUNCTION ledger.refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
            IF NEW.stream_id = 'indicator-{refused}' THEN RAISE EXCEPTION 'the database went away'; END IF;
            RETURN NEW; END $$;
        CREATE TRIGGER refuse_one BEFORE INSERT ON ledger.events FOR EACH ROW EXECUTE FUNCTION ledger.refuse_one()"""))
    try:
        with stack.client() as c:
            failed = c.post("/indicators/import", headers=admin, files={"file": ("指标.csv", data, "text/csv")})
            assert failed.status_code >= 500
    finally:
        asyncio.run(db.execute(servers.database_url, "DROP TRIGGER refuse_one ON ledger.events; "
                                                     "DROP FUNCTION ledger.refuse_one()"))
    with stack.client() as c:
        again = c.post("/indicators/import", headers=admin, files={"file": ("指标.csv", data, "text/csv")})
        assert again.status_code == 200, again.text
        assert (again.json()["imported"], again.json()["duplicates"]) == (rows - IMPORT_PART_ROWS, IMPORT_PART_ROWS)
        assert len(again.json()["ids"]) == rows and str(refused) in again.json()["ids"]
        assert c.get(f"/indicators/{refused}", headers=admin).json()["amount"] == f"{IMPORT_PART_ROWS + 8}.00"
