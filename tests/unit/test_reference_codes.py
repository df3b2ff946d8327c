"""The budget classification tables are consistent, and the checks accept known codes and reject others."""

import json
from pathlib import Path

import pytest

import contracts.reference as reference
from contracts.reference import (
    check_economic_code,
    check_function_code,
    economic_code_name,
    function_code_name,
)

REFERENCE = Path(reference.__file__).parent
TABLES = {"function_codes": (3, 5, 7), "economic_codes": (3, 5)}


def load(table):
    return json.loads((REFERENCE / f"{table}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("table", [pytest.param(t, id=t) for t in TABLES])
def test_table_has_edition_source_and_codes(table):
    doc = load(table)
    assert doc["edition"].strip() and doc["source"].strip()
    assert doc["codes"]


@pytest.mark.parametrize("table", [pytest.param(t, id=t) for t in TABLES])
def test_codes_are_digits_of_allowed_length_with_names(table):
    lengths = TABLES[table]
    for code, name in load(table)["codes"].items():
        assert code.isascii() and code.isdigit() and len(code) in lengths, code
        assert isinstance(name, str) and name.strip() == name and name, code


@pytest.mark.parametrize("table", [pytest.param(t, id=t) for t in TABLES])
def test_every_code_has_its_parents(table):
    codes = load(table)["codes"]
    for code in codes:
        for n in TABLES[table]:
            if n < len(code):
                assert code[:n] in codes, f"{code} lacks parent {code[:n]}"


@pytest.mark.parametrize("table,check", [
    pytest.param("function_codes", check_function_code, id="function"),
    pytest.param("economic_codes", check_economic_code, id="economic"),
])
def test_every_table_code_passes_its_check(table, check):
    assert [code for code in load(table)["codes"] if check(code) is not None] == []


@pytest.mark.parametrize("code,name", [
    pytest.param("213", "农林水支出", id="class-213"),
    pytest.param("21305", "巩固脱贫攻坚成果衔接乡村振兴", id="kuan-21305"),
    pytest.param("2130504", "农村基础设施建设", id="xiang-2130504"),
    pytest.param("2130505", "生产发展", id="xiang-2130505"),
    pytest.param("2210105", "农村危房改造", id="xiang-2210105"),
])
def test_known_function_codes_resolve(code, name):
    assert function_code_name(code) == name
    assert check_function_code(code) is None


@pytest.mark.parametrize("code,name", [
    pytest.param("509", "对个人和家庭的补助", id="class-509"),
    pytest.param("50901", "社会福利和救助", id="kuan-50901"),
    pytest.param("50701", "费用补贴", id="kuan-50701"),
])
def test_known_economic_codes_resolve(code, name):
    assert economic_code_name(code) == name
    assert check_economic_code(code) is None


@pytest.mark.parametrize("code", [
    # 2139999 (其他农林水支出) is a real 项, so an unused 21305 slot stands in for an unknown 项.
    pytest.param("2130598", id="unknown-xiang"),
    pytest.param("99999", id="unknown-kuan"),
    pytest.param("999", id="unknown-class"),
    pytest.param("21305x", id="not-digits"),
    pytest.param("2130", id="wrong-length"),
    pytest.param("213050401", id="too-long"),
    pytest.param("", id="empty"),
    pytest.param("２１３", id="fullwidth-digits"),
])
def test_unknown_function_codes_are_rejected(code):
    assert function_code_name(code) is None
    message = check_function_code(code)
    assert message and repr(code) in message


@pytest.mark.parametrize("code", [
    pytest.param("99999", id="unknown-kuan"),
    pytest.param("50904", id="unused-kuan"),
    pytest.param("21305x", id="not-digits"),
    pytest.param("2130504", id="function-length"),
    pytest.param("5090", id="wrong-length"),
])
def test_unknown_economic_codes_are_rejected(code):
    assert economic_code_name(code) is None
    message = check_economic_code(code)
    assert message and repr(code) in message


def test_non_string_code_is_rejected():
    assert "2130504" in check_function_code(2130504)


@pytest.mark.parametrize("orphans,code,missing", [
    pytest.param({"21305": "巩固脱贫攻坚成果衔接乡村振兴"}, "21305", "'213'", id="kuan-without-class"),
    pytest.param({"213": "农林水支出", "2130504": "农村基础设施建设"}, "2130504", "'21305'", id="xiang-without-kuan"),
])
def test_code_with_missing_parent_is_rejected(monkeypatch, orphans, code, missing):
    monkeypatch.setattr(reference, "_codes", lambda table: orphans)
    message = check_function_code(code)
    assert message and code in message and "parent" in message and missing in message
