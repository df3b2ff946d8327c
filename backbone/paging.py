"""Keyset cursors, as every list of the public API pages with them (the page itself: backbone/pages.py)."""

import base64
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Row, Select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.errors import InvalidInput, fault
from backbone.storable_text import unstorable


def encode_cursor(key: Any, last_id: str) -> str:
    """An opaque cursor after the row with this sort key and id."""
    value = key.isoformat() if isinstance(key, datetime) else str(key)
    return base64.urlsafe_b64encode(orjson.dumps([value, last_id])).decode()


def decode_cursor(cursor: str) -> tuple[str, str]:
    """The sort key (as text) and id of a cursor; a bad one is a 422 naming `cursor`."""
    try:
        value, last_id = orjson.loads(base64.urlsafe_b64decode(cursor))
        value, last_id = str(value), str(last_id)
    except (ValueError, TypeError, orjson.JSONDecodeError) as exc:
        raise InvalidInput("the cursor is not valid", errors=[fault("cursor", "not valid")]) from exc
    # The storable-text guard cannot see inside base64: what goes into a query is checked here.
    if unstorable(value) or unstorable(last_id):
        raise InvalidInput("the cursor is not valid", errors=[fault("cursor", "not valid")])
    return value, last_id


async def newest_first(conn: AsyncConnection, query: Select[Any], at: ColumnElement[Any], key: ColumnElement[Any],
                       cursor: str | None, limit: int, *, integer_key: bool = False) -> tuple[list[Row[Any]], str | None]:
    """One page of `query`, newest first by (`at`, `key`), after a cursor: its rows, and the cursor of the next
    page (None on the last). The cursor stays stable while rows arrive (a keyset, not an offset)."""
    if cursor:
        instant, last = decode_cursor(cursor)
        query = query.where(tuple_(at, key) < (cursor_instant(instant), cursor_integer(last) if integer_key else last))
    rows = (await conn.execute(query.order_by(at.desc(), key.desc()).limit(limit + 1))).all()
    if len(rows) <= limit:
        return list(rows), None
    last_row = rows[limit - 1]._mapping
    return list(rows[:limit]), encode_cursor(last_row[at.key], str(last_row[key.key]))


def cursor_integer(text: str) -> int:
    """A cursor's sort key that is a whole number; a bad one is a 422 naming `cursor`."""
    if not (text.isascii() and text.isdigit()) or int(text) > 2**63 - 1:
        raise InvalidInput("the cursor is not valid", errors=[fault("cursor", "not valid")])
    return int(text)


def cursor_instant(value: str) -> datetime:
    """A cursor's sort key that is an instant; a bad one is a 422 naming `cursor`."""
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput("the cursor is not valid", errors=[fault("cursor", "not valid")]) from exc
