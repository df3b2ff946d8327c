"""Reading a whole list in tests the way any client does: page after page, following `next_cursor` to the end."""

from collections.abc import Callable
from typing import Any

import httpx

from backbone.pages import MAX_LIMIT


def every(get: Callable[..., httpx.Response], url: str, params: dict[str, Any] | None = None,
          **request: Any) -> list[dict[str, Any]]:
    """Every item of the list at `url`: `get` is `httpx.get` or a client's `get`, `request` its other arguments
    (headers). A page that is not a 200 fails the test with its body."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        r = get(url, params={"limit": MAX_LIMIT, **(params or {})} | ({"cursor": cursor} if cursor else {}),
                **request)
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        if not (cursor := r.json()["next_cursor"]):
            return items
