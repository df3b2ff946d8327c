"""Refuses text PostgreSQL cannot store, before any handler sees it: the NUL character, and the
unpaired UTF-16 surrogates that JSON escapes (\\ud800) let through; and whole numbers beyond 64 bits, which
no integer column (nor the JSON serialiser of events and digests) holds. Without this, such a request
would end as a server error deep in a query; with it, the caller gets a 422 naming the field.
And it holds every request body to its path's limit, whatever the body's type says it is.

The raw bytes are scanned first (cheap); only a request that contains such an escape, or a number of 19
digits, is parsed to find the field.
"""

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backbone.errors import BodyTooLarge, fault, problem

_ESCAPES = re.compile(rb"\\u0000|\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f]")
MESSAGE = "contains a NUL character or an unpaired surrogate, which cannot be stored"
# A JSON number of 19 digits or more may be beyond 64 bits (2**63 has 19): only then is the body parsed to
# look. A number token follows `:`, `[` or `,`; digits inside a string (bank accounts run to 19) do not.
_LONG_NUMBER = re.compile(rb"(?:^|[:\[,])\s*-?\d{19}")
INT64 = range(-(2**63), 2**63)
TOO_BIG = "a whole number beyond the 64-bit range (about ±9.2e18), which cannot be stored"


def unstorable(text: str) -> bool:
    return "\x00" in text or _SURROGATE.search(text) is not None


def faults_in(value: Any, path: str = "") -> list[dict[str, str]]:
    """Every string (or key) and whole number in a JSON value that cannot be stored, by dotted path."""
    if isinstance(value, str):
        return [fault(path or "body", MESSAGE)] if unstorable(value) else []
    if isinstance(value, int) and not isinstance(value, bool):
        return [] if value in INT64 else [fault(path or "body", TOO_BIG)]
    if isinstance(value, list):
        return [f for n, item in enumerate(value) for f in faults_in(item, f"{path}.{n}" if path else str(n))]
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if unstorable(key):
                found.append(fault(path or "body", f"a key {MESSAGE}"))
            found += faults_in(item, where)
        return found
    return []


def parsed_as_json(content_type: str | None) -> bool:
    """Whether FastAPI reads a body of this type as JSON: no type at all, application/json and
    application/*+json, in any letter case and with any parameters."""
    if not content_type:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


class StorableTextMiddleware:
    """Holds a JSON body to scan it, never more than its path's `limit` (413 beyond); other bodies are
    counted as the route reads them and refused (413) once they pass it. Paths the app only `forwards`
    to another (the gateway's proxy) pass unscanned and streamed: the gateway limits them as it streams,
    and the app behind scans them."""

    def __init__(self, app: ASGIApp, limit: Callable[[str], int], json_limit: int,
                 forwards: Callable[[str], bool] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.json_limit = json_limit
        self.forwards = forwards

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (self.forwards is not None and self.forwards(scope["path"])):
            await self.app(scope, receive, send)
            return
        limit = self.limit(scope["path"])
        # The first of repeated headers, as Starlette and FastAPI read them.
        headers = Headers(scope=scope)
        announced = headers.get("content-length", "")
        if announced.isdigit() and int(announced) > limit:
            await _too_large(limit)(scope, receive, send)
            return
        faults = [fault("path", MESSAGE)] if unstorable(scope["path"]) else []
        if _CONTROL.search(scope["path"]):
            # A route's pattern ends in `$`, which also matches before a final newline: /ledger/export%0A would
            # reach the export route past the gateway's refusal of direct exports.
            faults.append(fault("path", "contains a control character"))
        faults += [fault(f"query.{name}", MESSAGE)
                   for name, value in parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
                   if unstorable(name) or unstorable(value)]
        if not faults and parsed_as_json(headers.get("content-type")):
            # Held whole to be scanned: never more than a JSON body may be, even on an upload's path.
            held = min(limit, self.json_limit)
            messages, body = await _drain(receive, held)
            if body is None:
                await _too_large(held)(scope, receive, send)
                return
            if _ESCAPES.search(body) or _LONG_NUMBER.search(body):
                try:
                    faults = faults_in(json.loads(body), "body")
                except ValueError:
                    faults = []  # not JSON at all: the route's own validation says so
            receive = _replay(messages, receive)
        elif not faults:
            receive = _capped(receive, limit)
        if faults:
            fields = ", ".join(f["field"] for f in faults)
            await problem(422, "invalid-input", "Invalid input", f"Invalid fields: {fields}", errors=faults)(
                scope, receive, send)
            return
        await self.app(scope, receive, send)


def _too_large(limit: int) -> ASGIApp:
    return problem(413, "payload-too-large", "Too large", f"the request body is larger than {limit} bytes")


def _capped(receive: Receive, limit: int) -> Receive:
    """The body as the route reads it, refused once more than `limit` bytes have come (a body that
    announced no length, or lied about it)."""
    size = 0

    async def capped() -> Message:
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                raise BodyTooLarge(limit)
        return message

    return capped


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
