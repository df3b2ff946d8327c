"""Scanned documents in an S3-compatible bucket, through the S3 protocol of a local S3 server (moto)."""

import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from moto.server import ThreadedMotoServer

from services.ledger.documents import ObjectDocumentStore, document_store

pytestmark = pytest.mark.integration
PDF = b"%PDF-1.7\n" + "长财农指〔2026〕12号".encode() + b"\n%%EOF\n"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    httpx.put(f"{endpoint}/fundwatch-documents").raise_for_status()
    try:
        yield endpoint
    finally:
        server.stop()


def bucket_store(endpoint: str) -> ObjectDocumentStore:
    store = document_store(directory=Path("/nonexistent"), bucket="fundwatch-documents", endpoint=endpoint,
                           region="cn-north-1", prefix="ledger", access_key="test", secret_key="test")
    assert isinstance(store, ObjectDocumentStore), "a configured bucket must be used instead of the directory"
    return store


def test_a_document_is_kept_once_under_its_hash_and_read_back(s3_endpoint):
    store = bucket_store(s3_endpoint)
    address = store.put(PDF)
    assert address == hashlib.sha256(PDF).hexdigest()
    assert store.put(PDF) == address
    assert store.open(address) == PDF
    listing = httpx.get(f"{s3_endpoint}/fundwatch-documents", params={"prefix": "ledger/"}).text
    assert f"ledger/{address[:2]}/{address[2:4]}/{address}" in listing and listing.count("<Key>") == 1


def test_missing_and_malformed_addresses(s3_endpoint):
    store = bucket_store(s3_endpoint)
    with pytest.raises(KeyError):
        store.open(hashlib.sha256(b"never stored").hexdigest())
    with pytest.raises(ValueError):
        store.open("../../etc/passwd")
