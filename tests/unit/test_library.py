"""The library of regulations and notices (第十七条): tags, names and who reads for an office."""

import pytest

from backbone.errors import Forbidden
from backbone.identity import Principal
from services.ledger.library.domain import COPIED_TO, distinct, document_id_for, reading_office, tag_faults


def test_every_document_is_copied_to_the_poverty_office_and_the_treasury():
    assert COPIED_TO == ("poverty_office", "treasury")


def test_the_same_bytes_are_one_document():
    assert document_id_for("a" * 64) == document_id_for("a" * 64) != document_id_for("b" * 64)


@pytest.mark.parametrize("fund_codes,rules,fields", [
    pytest.param(["2130504"], ["ZC-001", "JX-004"], [], id="known-fund-code-and-rule-numbers"),
    pytest.param(["21305"], [], [], id="a-fund-code-of-a-higher-level"),
    pytest.param(["9999999"], [], ["fund_codes[0]"], id="unknown-fund-code"),
    pytest.param(["213-05"], [], ["fund_codes[0]"], id="malformed-fund-code"),
    pytest.param([], ["ZC-001", "zc-1"], ["rules[1]"], id="malformed-rule-number"),
])
def test_tags_are_checked_each_by_its_place(fund_codes, rules, fields):
    assert [f["field"] for f in tag_faults(fund_codes, rules)] == fields


def test_tags_are_kept_once_each_in_their_order():
    assert distinct(["2130504", " 2130504", "", "21305"]) == ["2130504", "21305"]


def test_people_read_for_the_office_their_role_names_and_nobody_else_marks_a_copy_read():
    assert reading_office(Principal(subject="周", roles=["poverty_office"])) == "poverty_office"
    assert reading_office(Principal(subject="钱", roles=["treasury"])) == "treasury"
    with pytest.raises(Forbidden):
        reading_office(Principal(subject="王", roles=["division"], division="agriculture"))
