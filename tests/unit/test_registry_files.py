"""Registry files (建档立卡, 财政供养人员): every good row counts, every bad row is reported, no number leaks."""

import io
from datetime import date

import pytest
import xlsxwriter

from backbone.pii import PersonalData
from contracts.registry import PART_SIZE, PoorPopulationRecorded, RegistrySource
from contracts.values import Registry
from services.payments.registry.domain import ImportTally, check_update, read_registry_file
from tests.people import id_number, name

TODAY = date(2026, 11, 28)
PERSONAL = PersonalData(keys={"k1": b"k" * 32}, current="k1", index_key=b"index")
POOR_HEADER = "姓名,身份证号,户编号,区划,乡镇,行政村,贫困状态,年度"


def poor_csv(rows: list[str]) -> bytes:
    return ("\n".join([POOR_HEADER, *rows]) + "\n").encode()


def read(data: bytes, filename: str = "poor.csv", registry: Registry = Registry.POOR_POPULATION):
    tally = ImportTally()
    parts = list(read_registry_file(data, filename, registry, PERSONAL, TODAY, tally))
    return parts, tally


def test_good_rows_are_kept_and_each_bad_row_is_reported_by_line_and_column():
    wrong_check = id_number(3)[:-1] + ("1" if id_number(3)[-1] != "1" else "2")
    parts, tally = read(poor_csv([
        f"{name(1)},{id_number(1)},H001,南关区,幸福街道,永兴村,未脱贫,2026",
        f"{name(2)},{id_number(2)},H002,220102,幸福街道,永兴村,返贫监测,2025",
        f"{name(3)},{wrong_check},H003,南关区,幸福街道,永兴村,未脱贫,2026",
        f"{name(4)},{id_number(4)},H004,火星区,幸福街道,永兴村,小康,1999",
        f"{name(5)},{id_number(1)},H005,南关区,幸福街道,永兴村,已脱贫,2026",
        ",,,,,,,",
    ]))
    assert (tally.rows, tally.accepted, tally.rejected) == (5, 2, 3)
    entries = parts[0].entries
    assert [e["status"] for e in entries] == ["not_lifted", "monitored"]
    assert entries[0]["org_unit"] == entries[1]["org_unit"] == "220102"
    assert entries[0]["id_masked"] == id_number(1)[:6] + "********" + id_number(1)[-4:]
    assert entries[0]["id_index"] == PERSONAL.blind_index(id_number(1))
    assert {(e["row"], e["column"]) for e in tally.errors} == {
        (4, "身份证号"), (5, "区划"), (5, "贫困状态"), (5, "年度"), (6, "身份证号")}
    assert next(e["message"] for e in tally.errors if e["row"] == 6) == "the same person as line 2"
    # No error message and no entry carries the number itself; the vault holds it encrypted.
    text = repr(tally.errors) + repr(entries)
    assert all(n not in text for n in (id_number(1), id_number(2), wrong_check, id_number(4)))
    assert PERSONAL.decrypt(parts[0].vault[1][1]) == id_number(2)


def test_a_file_is_read_in_parts_that_make_valid_events():
    parts, tally = read(poor_csv([f"{name(n)},{id_number(n)},,绿园区,,,已脱贫,2024" for n in range(2500)]))
    assert [len(p.entries) for p in parts] == [PART_SIZE, PART_SIZE, 500] and tally.accepted == 2500
    event = PoorPopulationRecorded(source=RegistrySource(kind="import", id="x", part=1), persons=parts[0].entries)
    assert event.persons[0].org_unit == "220106" and event.persons[0].household is None


def test_missing_and_repeated_columns_are_reported_and_nothing_is_read():
    parts, tally = read("姓名,身份证号,身份证号码,区划\n张三,x,y,南关区\n".encode())
    assert parts == [] and tally.failed, "a header at fault fails the file as a whole"
    assert {(e["column"], e["message"].partition(";")[0]) for e in tally.errors} == {
        ("身份证号码", "the same column as '身份证号'"), ("贫困状态", "required column is missing"),
        ("年度", "required column is missing")}
    missing = next(e["message"] for e in tally.errors if e["column"] == "贫困状态")
    assert "贫困户状态" in missing and "脱贫属性" in missing, "the fault names the headers that would do"


@pytest.mark.parametrize("header,value,status", [
    pytest.param("贫困户状态", "未脱贫", "not_lifted", id="贫困户状态"),
    pytest.param("脱贫属性", "脱贫不稳定户", "monitored", id="脱贫属性-a-kind-of-monitored-household"),
    pytest.param("户类型", "脱贫户", "lifted", id="户类型"),
    pytest.param("脱贫状态", "边缘易致贫户", "monitored", id="脱贫状态-edge-household"),
])
def test_the_common_headers_of_real_exports_are_read(header, value, status):
    data = f"公民身份号码,成员姓名,县（市、区）,乡（镇）,村（社区）,户码,{header},识别年份\n" \
           f"{id_number(3)},{name(3)},南关区,幸福乡,永安村,2201020001,{value},2024\n"
    parts, tally = read(data.encode())
    assert tally.errors == [] and not tally.failed
    entry = parts[0].entries[0]
    assert (entry["status"], entry["org_unit"], entry["town"], entry["village"], entry["household"], entry["year"]) \
        == (status, "220102", "幸福乡", "永安村", "2201020001", 2024)


@pytest.mark.parametrize("data,filename,column", [
    pytest.param(b"", "poor.csv", None, id="empty"),
    pytest.param(b"PK\x03\x04 not a workbook", "poor.xlsx", None, id="unreadable"),
    pytest.param("姓名,身份证号,区划,年度\n张三,x,南关区,2024\n".encode(), "poor.csv", "贫困状态", id="status-missing"),
])
def test_a_file_that_fails_as_a_whole_yields_nothing_and_says_so(data, filename, column):
    parts, tally = read(data, filename)
    assert parts == [] and tally.failed and tally.rows == 0
    assert [e["column"] for e in tally.errors] == [column]


def test_gb18030_csv_and_extra_columns_are_read():
    data = ("姓名,身份证号码,联系电话,工作单位\n" + f"{name(7)},{id_number(7)},13800000000,长春市财政局\n").encode("gb18030")
    parts, tally = read(data, "employees.csv", Registry.PUBLIC_EMPLOYEES)
    assert tally.errors == [] and parts[0].entries[0]["employer"] == "长春市财政局"
    assert parts[0].entries[0]["org_unit"] is None


def test_every_worksheet_of_a_workbook_is_read_and_faults_name_their_sheet():
    buffer = io.BytesIO()
    with xlsxwriter.Workbook(buffer) as book:
        for sheet_name, first in (("南关区", 0), ("宽城区", 10)):
            sheet = book.add_worksheet(sheet_name)
            sheet.write_row(2, 1, POOR_HEADER.split(","))  # a title row and a margin column before the table
            for i in range(3):
                n = first + i
                sheet.write_row(3 + i, 1, [name(n), id_number(n), f"H{n}", sheet_name, "", "", "未脱贫", 2026])
            sheet.write_row(6, 1, ["王五", "123", "", sheet_name, "", "", "未脱贫", 2026])
    parts, tally = read(buffer.getvalue(), "poor.xlsx")
    assert tally.accepted == 6 and tally.rejected == 2
    assert {(e["sheet"], e["row"], e["column"]) for e in tally.errors} == {
        ("南关区", 7, "身份证号"), ("宽城区", 7, "身份证号")}
    assert {e["org_unit"] for e in parts[0].entries} == {"220102", "220103"}


def test_an_unreadable_file_is_one_clear_fault():
    parts, tally = read(b"PK\x03\x04 not really a workbook", "poor.xlsx")
    assert parts == [] and len(tally.errors) == 1 and "workbook" in tally.errors[0]["message"]
    parts, tally = read(b"a,b", "poor.pdf")
    assert "expected a .csv or .xlsx file" in tally.errors[0]["message"]


def test_an_update_judges_each_record_on_its_own_with_its_field_path():
    checked = check_update(Registry.POOR_POPULATION, {"update_id": "u1", "persons": [
        {"id_number": id_number(1), "status": "已脱贫"},
        {"id_number": "123", "status": "已脱贫"},
        {"id_number": id_number(2), "colour": "blue"},
        "not an object",
    ], "removals": [{"id_number": id_number(3), "reason": "自然减员"}, {"reason": "?"}]}, TODAY)
    assert [r.index for r in checked.persons] == [0] and checked.persons[0].values == {"status": "已脱贫"}
    assert [r.index for r in checked.removals] == [0]
    assert {(r["list"], r["index"], e["field"]) for r in checked.rejected for e in r["errors"]} == {
        ("persons", 1, "persons[1].id_number"), ("persons", 2, "persons[2].colour"), ("persons", 3, "persons[3]"),
        ("removals", 1, "removals[1].id_number")}
