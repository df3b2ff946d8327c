"""Scanned documents (指标文件扫描件): sniffed, size-limited, stored once, inherited by children."""

import hashlib

import pytest

from tests.e2e.conftest import MAX_DOCUMENT_BYTES, indicator_body
from tests.e2e.pages import every

pytestmark = pytest.mark.e2e
PDF = b"%PDF-1.7\n" + "长财农指〔2026〕12号".encode() + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_documents_travel_with_the_allocation_and_bad_files_are_refused(stack):
    admin = stack.admin_headers()
    with stack.client() as c:
        parent = c.post("/indicators", json=indicator_body("1000.00", org_unit="220100"), headers=admin).json()["id"]
        r = c.post(f"/indicators/{parent}/documents", headers=admin,
                   files={"file": ("长财农指〔2026〕12号.pdf", PDF, "image/png")})
        assert r.status_code == 201, r.text
        assert (r.json()["media_type"], r.json()["sha256"]) == ("application/pdf", hashlib.sha256(PDF).hexdigest())
        again = c.post(f"/indicators/{parent}/documents", headers=admin, files={"file": ("copy.pdf", PDF)})
        assert again.status_code == 200 and again.json()["document_id"] == r.json()["document_id"]
        # The declared type is not trusted: HTML named .pdf is refused, and so is an oversized scan.
        html = c.post(f"/indicators/{parent}/documents", headers=admin,
                      files={"file": ("scan.pdf", b"<html>not a scan</html>", "application/pdf")})
        assert html.status_code == 422 and html.json()["errors"][0]["field"] == "file"
        big = c.post(f"/indicators/{parent}/documents", headers=admin,
                     files={"file": ("big.png", PNG + b"\x00" * MAX_DOCUMENT_BYTES)})
        assert big.status_code == 413
        # A child allocated from the parent sees the parent's document and can download it.
        child = c.post(f"/indicators/{parent}/allocations", headers=admin, json={"allocations": [
            {"amount": "100.00", "org_unit": "220102", "owner_division": "agriculture"}]}).json()["children"][0]["id"]
        listed = every(c.get, f"/indicators/{child}/documents", headers=admin)
        assert [(d["inherited_from"], d["filename"]) for d in listed] == [(parent, "长财农指〔2026〕12号.pdf")]
        download = c.get(f"/indicators/{child}/documents/{listed[0]['sha256']}", headers=admin)
        assert download.content == PDF and download.headers["content-type"] == "application/pdf"
        assert "filename*=UTF-8''" in download.headers["content-disposition"]
        # Attaching counted as a step of the indicator: later commands still append in order.
        r = c.post(f"/indicators/{parent}/adjustments", headers=admin, json={"amount": "10.00", "reason": "追加"})
        assert r.status_code == 200, r.text
