"""Every list of the public API is read the same way, one page at a time: the caller asks with a `cursor` and a
`limit` (`PagingDep`), and gets a `Page`: its `items` and the `next_cursor`, null on the last page.

Cursors are keysets (the cursor helpers and `newest_first` in backbone/paging.py): a page starts after the last
row of the one before, by its sort key and id, never at an offset. Walking a list from its first page to its end
therefore gives each row once, while rows arrive. Lists are newest first unless their docstring names another
order (rules by number, a goal's steps in order, the faults of an import in the file's order)."""

from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, Field

from backbone.paging import decode_cursor, encode_cursor

T = TypeVar("T")

# Most callers read the first page only; whoever wants everything walks the cursors rather than asking for one
# huge page, so that no request holds thousands of rows in memory.
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# A cursor holds a sort key (a doc_no of up to 100 characters at most) and an id, base64-encoded.
MAX_CURSOR_LENGTH = 1000


class Page(BaseModel, Generic[T]):
    """One page of a list. A list with more to say about all its rows (counts, totals) subclasses it."""

    items: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


@dataclass(frozen=True)
class Paging:
    """The page a caller asks for: after `cursor` (from the start when None), at most `limit` items."""

    cursor: str | None = None
    limit: int = DEFAULT_LIMIT


def paging(
    cursor: Annotated[str | None, Query(max_length=MAX_CURSOR_LENGTH, description=(
        "`next_cursor` of the previous page; leave out for the first page."))] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description=(
        f"At most this many items (default {DEFAULT_LIMIT}, at most {MAX_LIMIT})."))] = DEFAULT_LIMIT,
) -> Paging:
    return Paging(cursor, limit)


PagingDep = Annotated[Paging, Depends(paging)]


def sorted_page(items: Sequence[T], key: Callable[[T], tuple[Any, str]], asked: Paging,
                parse: Callable[[str], Any] = str) -> tuple[list[T], str | None]:
    """One page of a list held in memory, in ascending order of `key` (a sort value and a unique id), after the
    cursor: its items and the cursor of the next page (None on the last). `parse` reads a cursor's sort value back
    (a 422 naming `cursor` when it cannot). For lists that are small by nature: the rules of a year, a goal's steps,
    the org units."""
    ordered = sorted(items, key=key)
    start = 0
    if asked.cursor:
        value, last_id = decode_cursor(asked.cursor)
        start = bisect_right(ordered, (parse(value), last_id), key=key)
    page = ordered[start:start + asked.limit]
    more = start + asked.limit < len(ordered)
    return page, encode_cursor(*key(page[-1])) if more else None
