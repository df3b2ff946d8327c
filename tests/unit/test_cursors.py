"""Cursors are the caller's to write: whatever they hold, a bad one is a 422 naming `cursor`, never a 500."""

import base64
import json

import pytest

from backbone.errors import InvalidInput
from backbone.paging import decode_cursor, encode_cursor
from services.ledger.ledger_api import _position


def forged(value: str, last_id: str) -> str:
    # json.dumps, not orjson: a forger may write an unpaired surrogate as an escape.
    return base64.urlsafe_b64encode(json.dumps([value, last_id]).encode()).decode()


def test_a_cursor_round_trips():
    assert decode_cursor(encode_cursor("2026-01-01", "id-1")) == ("2026-01-01", "id-1")


@pytest.mark.parametrize("cursor", [forged("a\x00b", "x"), forged("a", "\ud800"), "not base64!", forged("1", "x")[:-4]])
def test_a_cursor_with_text_postgresql_cannot_store_or_no_cursor_at_all_is_refused(cursor):
    with pytest.raises(InvalidInput) as refused:
        decode_cursor(cursor)
    assert refused.value.extra["errors"][0]["field"] == "cursor"


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "sNaN", "1e999999", "2026-03-31"])
def test_a_ledger_cursor_without_a_comparable_amount_is_refused(value):
    with pytest.raises(InvalidInput) as refused:
        _position("-amount", forged(value, "x"))
    assert refused.value.extra["errors"][0]["field"] == "cursor"
