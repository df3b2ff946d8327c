"""Names of uploaded files, as they may be kept and shown: an uploader writes what it likes there."""

import unicodedata
from pathlib import PureWindowsPath

MAX_FILENAME = 255


def plain_filename(name: str | None, default: str = "") -> str:
    """The uploader's file name without directories or control characters (NUL included: PostgreSQL refuses it),
    bounded in length; `default` when nothing is left."""
    # Some browsers send the full client path (C:\\Users\\…\\scan.pdf).
    base = PureWindowsPath(name or "").name
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    if not base or base in {".", ".."}:
        return default
    if len(base) > MAX_FILENAME:
        stem, _, ext = base.rpartition(".")
        # Keep a short extension: the downloader's system opens the file by it.
        base = stem[:MAX_FILENAME - len(ext) - 1] + "." + ext if stem and len(ext) < 16 else base[:MAX_FILENAME]
    return base
