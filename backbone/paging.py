"""Keyset cursors and file downloads, as every list and export of the public API gives them."""

import base64
from datetime import datetime
from typing import Any
from urllib.parse import quote

import orjson
from fastapi.responses import Response

from backbone.errors import InvalidInput
from backbone.workdays import SHANGHAI

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def encode_cursor(key: Any, last_id: str) -> str:
    """An opaque cursor after the row with this sort key and id."""
    value = key.isoformat() if isinstance(key, datetime) else str(key)
    return base64.urlsafe_b64encode(orjson.dumps([value, last_id])).decode()


def decode_cursor(cursor: str) -> tuple[str, str]:
    """The sort key (as text) and id of a cursor; a bad one is a 422 naming `cursor`."""
    try:
        value, last_id = orjson.loads(base64.urlsafe_b64decode(cursor))
        return str(value), str(last_id)
    except (ValueError, TypeError, orjson.JSONDecodeError) as exc:
        raise InvalidInput("the cursor is not valid", errors=[{"field": "cursor", "message": "not valid"}]) from exc


def cursor_instant(value: str) -> datetime:
    """A cursor's sort key that is an instant; a bad one is a 422 naming `cursor`."""
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput("the cursor is not valid", errors=[{"field": "cursor", "message": "not valid"}]) from exc


def xlsx_download(content: bytes, ascii_stem: str, chinese_stem: str) -> Response:
    """An XLSX file named with its Chinese title and the Beijing time it was made (ASCII name for old clients)."""
    stamp = datetime.now(SHANGHAI).strftime("%Y%m%d-%H%M%S")
    return Response(content, media_type=XLSX, headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_stem}-{stamp}.xlsx\"; "
                               f"filename*=UTF-8''{quote(f'{chinese_stem}-{stamp}.xlsx')}"})
