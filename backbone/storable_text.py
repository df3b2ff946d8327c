"""Refuses text PostgreSQL cannot store, before any handler sees it: the NUL character, and the
unpaired UTF-16 surrogates that JSON escapes (\\ud800) let through. Without this, such a request
would end as a server error deep in a query; with it, the caller gets a 422 naming the field.

The raw bytes are scanned first (cheap); only a request that contains such an escape is parsed
to find the field.
"""

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backbone.errors import problem

_ESCAPES = re.compile(rb"\\u0000|\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE = re.compile("[\ud800-\udfff]")
MESSAGE = "contains a NUL character or an unpaired surrogate, which cannot be stored"


def unstorable(text: str) -> bool:
    return "\x00" in text or _SURROGATE.search(text) is not None


def faults_in(value: Any, path: str = "") -> list[dict[str, str]]:
    """Every string (or key) in a JSON value that cannot be stored, by dotted path."""
    if isinstance(value, str):
        return [{"field": path or "body", "message": MESSAGE}] if unstorable(value) else []
    if isinstance(value, list):
        return [f for n, item in enumerate(value) for f in faults_in(item, f"{path}.{n}" if path else str(n))]
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if unstorable(key):
                found.append({"field": path or "body", "message": f"a key {MESSAGE}"})
            found += faults_in(item, where)
        return found
    return []


class StorableTextMiddleware:
    """Holds a JSON body to scan it, never more than `max_bytes` of it (413 beyond). Paths the app only
    `forwards` to another (the gateway's proxy) pass unscanned and streamed: the app behind scans them."""

    def __init__(self, app: ASGIApp, max_bytes: int, forwards: Callable[[str], bool] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.forwards = forwards

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (self.forwards is not None and self.forwards(scope["path"])):
            await self.app(scope, receive, send)
            return
        faults = [{"field": "path", "message": MESSAGE}] if unstorable(scope["path"]) else []
        faults += [{"field": f"query.{name}", "message": MESSAGE}
                   for name, value in parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
                   if unstorable(name) or unstorable(value)]
        headers = dict(scope["headers"])
        if not faults and headers.get(b"content-type", b"").startswith(b"application/json"):
            messages, body = await _drain(receive, self.max_bytes)
            if body is None:
                await problem(413, "payload-too-large", "Too large",
                              f"the request body is larger than {self.max_bytes} bytes")(scope, receive, send)
                return
            if _ESCAPES.search(body):
                try:
                    faults = faults_in(json.loads(body), "body")
                except ValueError:
                    faults = []  # not JSON at all: the route's own validation says so
            receive = _replay(messages, receive)
        if faults:
            fields = ", ".join(f["field"] for f in faults)
            await problem(422, "invalid-input", "Invalid input", f"Invalid fields: {fields}", errors=faults)(
                scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _drain(receive: Receive, max_bytes: int) -> tuple[list[Message], bytes | None]:
    """The body's messages and bytes; None for the bytes once there are more than `max_bytes`."""
    messages, chunks, size = [], [], 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > max_bytes:
            return messages, None
        if not message.get("more_body", False):
            break
    return messages, b"".join(chunks)


def _replay(messages: list[Message], then: Receive) -> Receive:
    """The body again, then the real channel (which tells when the client goes away)."""
    pending = list(messages)

    async def receive() -> Message:
        return pending.pop(0) if pending else await then()

    return receive
