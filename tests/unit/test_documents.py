"""Scanned documents (指标文件扫描件): the type comes from the bytes, the size is bounded, the store is
content-addressed and writes each document once, atomically."""

import hashlib
import os
from pathlib import Path

import pytest

from backbone.errors import InvalidInput
from backbone.errors import PayloadTooLarge
from services.ledger.documents import (LocalDocumentStore, accept, clean_filename,
                                       content_disposition, detect)

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00"  # also what a .docx or .xlsx is
HTML = b"\xef\xbb\xbf\n  <!DOCTYPE html><html><script>alert(1)</script></html>"
LIMIT = 1024


@pytest.mark.parametrize("data,media_type", [
    pytest.param(PDF, "application/pdf", id="pdf"),
    pytest.param(JPEG, "image/jpeg", id="jpeg"),
    pytest.param(PNG, "image/png", id="png"),
])
def test_an_accepted_scan_gets_the_type_its_bytes_begin_with(data, media_type):
    assert accept(data, limit=LIMIT) == media_type


@pytest.mark.parametrize("data,detected", [
    pytest.param(ZIP, "application/zip", id="zip"),
    pytest.param(HTML, "text/html", id="html-renamed-pdf"),
    pytest.param(b"GIF89a\x01\x00\x01\x00", "image/gif", id="gif"),
    pytest.param(b"", "empty", id="empty"),
    pytest.param(b"%PDF", "application/octet-stream", id="truncated-pdf-signature"),
    pytest.param(b" %PDF-1.7", "application/octet-stream", id="pdf-signature-not-at-start"),
    pytest.param(b"\x89PNG\r\n", "application/octet-stream", id="truncated-png-signature"),
])
def test_another_type_is_refused_naming_the_file_field_and_what_was_found(data, detected):
    # Whatever name or Content-Type came with it, only the bytes are asked.
    with pytest.raises(InvalidInput) as err:
        accept(data, limit=LIMIT)
    assert err.value.status == 422
    assert err.value.extra["detected"] == detected
    [error] = err.value.extra["errors"]
    assert error["field"] == "file" and detected in error["message"]


@pytest.mark.parametrize("size,accepted", [
    pytest.param(LIMIT - 1, True, id="under"),
    pytest.param(LIMIT, True, id="at-limit"),
    pytest.param(LIMIT + 1, False, id="one-byte-over"),
])
def test_the_size_limit_is_inclusive(size, accepted):
    data = PDF + b"\0" * (size - len(PDF))
    if accepted:
        assert accept(data, limit=LIMIT) == "application/pdf"
        return
    with pytest.raises(PayloadTooLarge) as err:
        accept(data, limit=LIMIT)
    assert (err.value.status, err.value.extra["limit"]) == (413, LIMIT)
    assert err.value.extra["errors"] == [{"field": "file", "message": f"at most {LIMIT} bytes"}]


def test_too_large_is_refused_before_the_type_is_asked():
    with pytest.raises(PayloadTooLarge):
        accept(ZIP * 200, limit=LIMIT)


def test_detect_does_not_refuse():
    assert detect(ZIP) == "application/zip" and detect(PDF) == "application/pdf"


def test_the_store_keeps_bytes_at_their_sha256_under_two_levels_of_directories(tmp_path):
    store = LocalDocumentStore(tmp_path)
    sha256 = store.put(PDF)
    assert sha256 == hashlib.sha256(PDF).hexdigest()
    assert (tmp_path / sha256[:2] / sha256[2:4] / sha256).read_bytes() == PDF
    assert store.open(sha256) == PDF


def test_putting_the_same_bytes_again_writes_nothing(tmp_path):
    store = LocalDocumentStore(tmp_path)
    path = store.path_of(store.put(PNG))
    os.utime(path, ns=(0, 0))
    assert store.put(PNG) == path.name
    assert path.stat().st_mtime_ns == 0, "the document was written a second time"
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [path]


def test_different_bytes_get_different_addresses(tmp_path):
    store = LocalDocumentStore(tmp_path)
    assert store.put(PDF) != store.put(JPEG)
    assert (store.open(hashlib.sha256(PDF).hexdigest()), store.open(hashlib.sha256(JPEG).hexdigest())) == (PDF, JPEG)


def test_a_failed_write_leaves_neither_the_document_nor_a_temporary_file(tmp_path, monkeypatch):
    store = LocalDocumentStore(tmp_path)

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        store.put(PDF)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    monkeypatch.undo()
    # The next attempt is not fooled into thinking the document is there.
    assert store.open(store.put(PDF)) == PDF


def test_the_document_appears_whole_by_one_rename(tmp_path, monkeypatch):
    store = LocalDocumentStore(tmp_path)
    renames = []
    real_replace = os.replace

    def watch(src, dst):
        # At the moment of the rename the temporary file is complete and beside the target.
        renames.append((os.path.dirname(src) == os.path.dirname(dst), Path(src).read_bytes()))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", watch)
    store.put(JPEG)
    assert renames == [(True, JPEG)]


def test_an_absent_document_is_a_key_error(tmp_path):
    with pytest.raises(KeyError):
        LocalDocumentStore(tmp_path).open(hashlib.sha256(b"never stored").hexdigest())


@pytest.mark.parametrize("address", [
    pytest.param("../../etc/passwd", id="traversal"),
    pytest.param("AB" * 32, id="uppercase"),
    pytest.param("ab" * 31, id="too-short"),
    pytest.param("", id="empty"),
])
def test_a_malformed_address_is_refused_before_touching_the_disk(tmp_path, address):
    with pytest.raises(ValueError):
        LocalDocumentStore(tmp_path).open(address)


@pytest.mark.parametrize("name,expected", [
    pytest.param("长财农指〔2026〕12号.pdf", "长财农指〔2026〕12号.pdf", id="chinese-kept"),
    pytest.param("C:\\Users\\财政局\\scan.pdf", "scan.pdf", id="windows-path"),
    pytest.param("../../etc/passwd", "passwd", id="posix-path"),
    pytest.param("a\r\nb\x00.pdf", "ab.pdf", id="control-characters"),
    pytest.param(None, "document.png", id="no-name"),
    pytest.param("  ", "document.png", id="blank"),
    pytest.param("长" * 300 + ".pdf", "长" * 251 + ".pdf", id="too-long-keeps-extension"),
])
def test_the_uploaders_file_name_is_cleaned(name, expected):
    assert clean_filename(name, "image/png") == expected


def test_a_chinese_file_name_survives_the_download_header():
    header = content_disposition('长财农指〔2026〕12号 "扫描件".pdf')
    assert header.startswith('attachment; filename="')
    fallback = header.split('filename="')[1].split('";')[0]
    assert fallback.isascii() and '"' not in fallback and fallback.endswith(".pdf")
    assert header.endswith("filename*=UTF-8''%E9%95%BF%E8%B4%A2%E5%86%9C%E6%8C%87%E3%80%942026%E3%80%9512%E5%8F%B7"
                           "%20%22%E6%89%AB%E6%8F%8F%E4%BB%B6%22.pdf")
