"""The library of regulations and notices (第十七条): a division files what it made, tagged to funds and rules;
everyone finds it; 局脱贫办 and 国库处 each get it as a copy (抄送) and mark it read."""

import uuid

import pytest

from tests.e2e.pages import every
from tests.e2e.people import signed_in

pytestmark = pytest.mark.e2e


def pdf(words: str) -> bytes:
    """A PDF of its own each call, so that the suite's documents do not meet."""
    return b"%PDF-1.7\n" + f"{words} {uuid.uuid4()}".encode() + b"\n%%EOF\n"


def test_a_division_files_a_regulation_that_everyone_finds_and_both_offices_read_as_copied(stack):
    division = signed_in("农业处-制度-冯", ["division"], division="agriculture")
    poverty_office = signed_in("局脱贫办-抄送-周", ["poverty_office"], division="poverty_office")
    treasury = signed_in("国库处-抄送-钱", ["treasury"], division="treasury")
    district = signed_in("南关区-制度-陈", ["district"], org_unit="220102")
    body = pdf("长春市财政扶贫资金管理办法")
    with stack.client() as c:
        filed = c.post("/library", headers=division, files={"file": ("资金管理办法.pdf", body, "application/pdf")},
                       data={"title": "长春市财政衔接推进乡村振兴补助资金管理办法", "kind": "measures",
                             "doc_no": "长财农〔2026〕88号", "issued_on": "2026-11-02",
                             "fund_codes": ["2130504", "21305"], "rules": ["ZC-003", "ZC-007"]})
        assert filed.status_code == 201, filed.text
        doc = filed.json()
        assert (doc["kind"], doc["fund_codes"], doc["rules"]) == ("measures", ["2130504", "21305"], ["ZC-003", "ZC-007"])
        assert doc["filed_by"] == "农业处-制度-冯" and doc["issuing_division"] == "agriculture"
        assert [(x["office"], x["read_by"]) for x in doc["copies"]] == [("poverty_office", None), ("treasury", None)]
        # The same file again files nothing new.
        again = c.post("/library", headers=division, files={"file": ("copy.pdf", body)},
                       data={"title": "再次上传", "kind": "measures"})
        assert again.status_code == 200 and again.json()["document_id"] == doc["document_id"]
        assert again.json()["title"] == doc["title"]

        # Found by its fund, its rule, its words; a district reads the library too.
        for params in ({"fund_code": "2130504"}, {"rule": "ZC-007"}, {"q": "88号"}, {"q": "乡村振兴"},
                       {"kind": "measures"}):
            assert doc["document_id"] in [d["document_id"] for d in every(c.get, "/library", headers=district,
                                                                          params=params)], params
        assert doc["document_id"] not in [d["document_id"] for d in every(c.get, "/library", headers=district,
                                                                          params={"rule": "ZC-001"})]
        download = c.get(f"/library/{doc['document_id']}/file", headers=district)
        assert download.content == body and download.headers["content-type"] == "application/pdf"

        # 抄送: each office has it among what it has not read, until one of its people reads it.
        def unread(office_headers) -> list[str]:
            return [d["document_id"] for d in every(c.get, "/library", headers=office_headers,
                                                    params={"unread": "true"})]
        assert doc["document_id"] in unread(poverty_office) and doc["document_id"] in unread(treasury)
        read = c.post(f"/library/{doc['document_id']}/read", headers=poverty_office)
        assert read.status_code == 200, read.text
        marks = {x["office"]: x["read_by"] for x in read.json()["copies"]}
        assert marks == {"poverty_office": "局脱贫办-抄送-周", "treasury": None}
        assert doc["document_id"] not in unread(poverty_office) and doc["document_id"] in unread(treasury)
        # Read again: the first mark stands.
        colleague = signed_in("局脱贫办-抄送-吴", ["poverty_office"], division="poverty_office")
        twice = c.post(f"/library/{doc['document_id']}/read", headers=colleague)
        assert {x["office"]: x["read_by"] for x in twice.json()["copies"]}["poverty_office"] == "局脱贫办-抄送-周"
        # Only the offices copied mark it read; a district files nothing here.
        assert c.post(f"/library/{doc['document_id']}/read", headers=division).status_code == 403
        assert c.post("/library", headers=district, files={"file": ("x.pdf", pdf("区"))},
                      data={"title": "区文件", "kind": "notice"}).status_code == 403
        assert c.get("/library", headers=division, params={"unread": "true"}).status_code == 403


def test_bad_documents_and_tags_are_refused_naming_the_field(stack):
    division = signed_in("农业处-制度-冯", ["division"], division="agriculture")
    with stack.client() as c:
        def file(files, **data):
            return c.post("/library", headers=division, files=files,
                          data={"title": "通知", "kind": "notice"} | data)
        html = file({"file": ("a.pdf", b"<html>not a document</html>", "application/pdf")})
        assert html.status_code == 422 and html.json()["errors"][0]["field"] == "file"
        tags = file({"file": ("b.pdf", pdf("通知"))}, fund_codes=["9999999"], rules=["ZC-1"])
        assert tags.status_code == 422
        assert [e["field"] for e in tags.json()["errors"]] == ["fund_codes[0]", "rules[0]"]
        kind = file({"file": ("c.pdf", pdf("通知"))}, kind="memo")
        assert kind.status_code == 422 and "kind" in kind.text
        no_title = c.post("/library", headers=division, files={"file": ("d.pdf", pdf("通知"))},
                          data={"kind": "notice"})
        assert no_title.status_code == 422 and "title" in no_title.text
        assert c.get("/library/no-such-document", headers=division).status_code == 404
