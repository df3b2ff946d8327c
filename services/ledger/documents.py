"""The scanned documents of indicators (指标文件扫描件): what is accepted, and where the bytes are kept.

A document's type is read from its first bytes, never from the name or the Content-Type the
client sent. The bytes are kept content-addressed: the sha256 of the bytes is their address.
"""

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

import obstore
from obstore.store import ObjectStore, S3Store

from backbone.errors import InvalidInput, PayloadTooLarge, fault
from backbone.files import plain_filename

# Signature → (media type, extension) of the accepted scans.
ACCEPTED: dict[bytes, tuple[str, str]] = {
    b"%PDF-": ("application/pdf", ".pdf"),
    b"\xff\xd8\xff": ("image/jpeg", ".jpg"),
    b"\x89PNG\r\n\x1a\n": ("image/png", ".png"),
}
# Refused types worth naming in the refusal, so the uploader knows what they actually sent.
KNOWN_REFUSED: dict[bytes, str] = {
    b"PK\x03\x04": "application/zip",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
    b"II*\x00": "image/tiff",
    b"MM\x00*": "image/tiff",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1": "application/x-ole-storage",
}
# Accepted media type → the extension a nameless document gets.
EXTENSIONS: dict[str, str] = dict(ACCEPTED.values())
SHA256_HEX = re.compile(r"[0-9a-f]{64}")



def detect(data: bytes) -> str:
    """The media type the bytes begin with, `empty`, or `application/octet-stream` when unknown."""
    if not data:
        return "empty"
    for signature, (media_type, _) in ACCEPTED.items():
        if data.startswith(signature):
            return media_type
    for signature, media_type in KNOWN_REFUSED.items():
        if data.startswith(signature):
            return media_type
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "text/html"
    return "application/octet-stream"


def accept(data: bytes, *, limit: int) -> str:
    """The media type of an acceptable document (指标文件扫描件); too large or of another type is refused."""
    if len(data) > limit:
        raise PayloadTooLarge(f"the document is larger than {limit} bytes", limit=limit,
                               errors=[fault("file", f"at most {limit} bytes")])
    detected = detect(data)
    if detected not in EXTENSIONS:
        raise InvalidInput(f"a scanned document must be PDF, JPEG or PNG, not {detected}", detected=detected,
                           errors=[fault("file", f"detected {detected}; accepted: PDF, JPEG, PNG")])
    return detected


def clean_filename(name: str | None, media_type: str) -> str:
    """The uploader's file name as it may be kept, or `document.<ext>` when it gives none."""
    return plain_filename(name, "document" + EXTENSIONS[media_type])


def content_disposition(filename: str) -> str:
    """An attachment header that keeps a Chinese file name (RFC 6266 with RFC 5987 `filename*`)."""
    # Old clients read only `filename`: give them an ASCII stand-in without quotes to break out of.
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


class DocumentStore(Protocol):
    """Where the bytes of documents (指标文件扫描件) are kept, addressed by their sha256.

    `LocalDocumentStore` keeps them on a file system, `ObjectDocumentStore` in an S3-compatible
    bucket (key ab/cd/<sha256>); `document_store` chooses by configuration.
    """

    def put(self, data: bytes) -> str:
        """Keep the bytes and return their sha256 (lowercase hex); the same bytes are kept once."""
        ...

    def open(self, sha256: str) -> bytes:
        """The bytes at an address; KeyError when none are kept there, ValueError for a malformed one."""
        ...


class LocalDocumentStore:
    """Documents on a local (or mounted) file system, at root/ab/cd/<sha256>."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, sha256: str) -> Path:
        """Where the bytes of an address live; the address is checked so it cannot leave the root."""
        if not SHA256_HEX.fullmatch(sha256):
            raise ValueError(f"not a sha256 address: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> str:
        """Keep the bytes once; a reader never sees a partly written file."""
        sha256 = hashlib.sha256(data).hexdigest()
        target = self.path_of(sha256)
        if target.exists():
            return sha256
        target.parent.mkdir(parents=True, exist_ok=True)
        # The temporary file sits beside the target so that os.replace is a rename on one file system.
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        _sync_directory(target.parent)
        return sha256

    def open(self, sha256: str) -> bytes:
        """The bytes kept at an address."""
        try:
            return self.path_of(sha256).read_bytes()
        except FileNotFoundError:
            raise KeyError(sha256) from None


class ObjectDocumentStore:
    """Documents in an S3-compatible bucket (AWS, MinIO, a cloud's OSS/COS/OBS), at ab/cd/<sha256>."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    @staticmethod
    def key_of(sha256: str) -> str:
        if not SHA256_HEX.fullmatch(sha256):
            raise ValueError(f"not a sha256 address: {sha256!r}")
        return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def put(self, data: bytes) -> str:
        """Keep the bytes once: an object that exists already is the same bytes (its key is their hash)."""
        sha256 = hashlib.sha256(data).hexdigest()
        try:
            obstore.put(self.store, self.key_of(sha256), data, mode="create")
        except obstore.exceptions.AlreadyExistsError:
            pass
        return sha256

    def open(self, sha256: str) -> bytes:
        """The bytes kept at an address."""
        try:
            return bytes(obstore.get(self.store, self.key_of(sha256)).bytes())
        except FileNotFoundError:
            raise KeyError(sha256) from None


def _sync_directory(directory: Path) -> None:
    # The event naming a document is appended right after `put`: the rename must survive a crash too.
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def document_store(*, directory: Path, bucket: str | None = None, endpoint: str | None = None,
                   region: str = "us-east-1", prefix: str = "documents", access_key: str | None = None,
                   secret_key: str | None = None) -> DocumentStore:
    """The configured store: a bucket when one is named, else the directory."""
    if not bucket:
        return LocalDocumentStore(directory)
    credentials = {"access_key_id": access_key, "secret_access_key": secret_key} if access_key else {}
    return ObjectDocumentStore(S3Store(
        bucket, prefix=prefix, region=region, **({"endpoint": endpoint} if endpoint else {}), **credentials,
        # An in-house endpoint (MinIO in the machine room) may speak plain HTTP.
        client_options={"allow_http": bool(endpoint and endpoint.startswith("http://"))}))
