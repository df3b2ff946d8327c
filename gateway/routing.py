"""Which service answers which public path, and the proxy that forwards to it."""

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi import Request
from starlette.background import BackgroundTask
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

import httpx

from backbone.errors import NotFound, PayloadTooLarge, ServiceUnavailable
from backbone.identity import IDENTITY_HEADER, Principal, audience_of, issue_internal_token
from backbone.settings import Settings
from backbone.streams import StreamSlot

# First path segment under /api/v1 → the service that owns it.
ROUTES: dict[str, str] = {
    "indicators": "ledger",
    "ledger": "ledger",
    "library": "ledger",
    "payments": "payments",
    "registry": "payments",
    "performance-goals": "performance",
    "alerts": "alerting",
    "rules": "alerting",
    "rule-proposals": "alerting",
    "requirements": "alerting",
    "dispositions": "alerting",
    "referrals": "alerting",
    "circulars": "alerting",
    "suspensions": "alerting",
    "liaisons": "alerting",
    "notifications": "alerting",
    "rollups": "sync",
    "exchange": "sync",
    "monthly-reports": "sync",
    "districts": "sync",
}
SERVICES = ("ledger", "payments", "performance", "alerting", "sync")

# Requests whose service asks another one on the caller's behalf: the identity is signed for both. Setting a goal
# asks the ledger about an indicator performance has not heard of yet (read-your-writes); no service holds a
# signing key of its own, and the ledger answers within the caller's own scope.
ASKS_ONWARD: dict[tuple[str, str], tuple[str, ...]] = {
    ("POST", "performance-goals"): ("ledger",),
}

# Never forwarded: hop-by-hop headers, the caller's credentials, and any identity the caller
# tries to assert itself.
_DROP_REQUEST = {"host", "content-length", "connection", "keep-alive", "transfer-encoding", "upgrade",
                 "authorization", "x-api-key", "cookie", "x-csrf-token", IDENTITY_HEADER.lower()}
# The body is streamed through as raw bytes: its content-encoding stays valid, its length is re-framed.
_DROP_RESPONSE = {"content-length", "connection", "keep-alive", "transfer-encoding"}


def forwarded(path: str) -> bool:
    """Whether a request path (with its /api/v1 prefix) belongs to a service rather than to the gateway."""
    try:
        service_for(path.removeprefix("/api/v1/"))
    except NotFound:
        return False
    return path.startswith("/api/v1/")


def service_for(path: str) -> str:
    """The service behind a public path (without the /api/v1 prefix)."""
    parts = path.strip("/").split("/")
    if parts[:2] == ["admin", "dead-letters"] and len(parts) >= 3 and parts[2] in SERVICES:
        return parts[2]
    service = ROUTES.get(parts[0])
    if service is None:
        raise NotFound(f"no such resource: /api/v1/{path}")
    return service


async def limited_body(request: Request, limit: int) -> AsyncIterator[bytes]:
    """The request body streamed on to the service (an import file is never held whole here),
    refused as soon as it passes the limit, announced or not."""
    announced = request.headers.get("content-length")
    if announced and announced.isdigit() and int(announced) > limit:
        raise PayloadTooLarge(f"the request body is larger than {limit} bytes")
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the request body is larger than {limit} bytes")
        yield chunk


def new_client(max_connections: int = 200) -> httpx.AsyncClient:
    """A pooled client per gateway process for requests, and one of its own for streams, so that open streams
    never take the connections requests wait for."""
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=min(50, max_connections))
    return httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(60.0, connect=5.0))


# How often an open stream asks whether its session still holds (between chunks; the services' streams send a
# keep-alive at least every 15 s).
STREAM_SESSION_CHECK_SECONDS = 5.0


async def while_open(chunks: AsyncIterator[bytes], still_open: Callable[[], Awaitable[bool]]) -> AsyncIterator[bytes]:
    """A stream that ends once its session does (sign-out, password change, revocation, idle time), instead of
    flowing on with the roles it started with until the token expires."""
    checked = time.monotonic()
    async for chunk in chunks:
        if time.monotonic() - checked >= STREAM_SESSION_CHECK_SECONDS:
            if not await still_open():
                return
            checked = time.monotonic()
        yield chunk


class HeldStream(StreamingResponse):
    """A forwarded stream that gives back its place when its answer ends, however it ends: finished, the
    caller gone before the first byte, or the service failing mid-way."""

    def __init__(self, *args: Any, slot: StreamSlot, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.slot = slot

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.slot.release()


async def ask_as(client: httpx.AsyncClient, settings: Settings, principal: Principal, service: str, path: str,
                 params: dict[str, Any]) -> Any:
    """A service's JSON answer to a GET asked with the caller's identity, for the gateway's own pages that gather
    from the services (待办, platform use): each service answers within the caller's scope."""
    identity = issue_internal_token(principal, settings.identity_private_key.get_secret_value(), audience_of(service))
    try:
        answer = await client.get(f"{settings.service_url(service)}/api/v1{path}", params=params,
                                  headers={IDENTITY_HEADER: identity})
        answer.raise_for_status()
    except httpx.HTTPError as exc:
        raise ServiceUnavailable(f"the {service} service did not answer; try again") from exc
    return answer.json()


async def forward(request: Request, path: str, principal: Principal, client: httpx.AsyncClient,
                  settings: Settings) -> StreamingResponse:
    """Forward a request to its service with the caller's identity, streaming the answer back."""
    service = service_for(path)
    headers = {k: v for k, v in request.headers.items() if k.lower() not in _DROP_REQUEST}
    onward = ASKS_ONWARD.get((request.method, path.rstrip("/")), ())
    headers[IDENTITY_HEADER] = issue_internal_token(principal, settings.identity_private_key.get_secret_value(),
                                                    [audience_of(s) for s in (service, *onward)])
    streaming = path.rstrip("/").endswith("/stream")
    # The path goes on as the caller encoded it: decoded, odd characters would not make a valid URL.
    raw_path = request.scope.get("raw_path", b"").decode("latin-1") or f"/api/v1/{path}"
    outgoing = client.build_request(
        request.method, f"{settings.service_url(service)}{raw_path}", params=request.query_params,
        headers=headers, content=limited_body(request, settings.body_limit(path)),
        timeout=httpx.Timeout(None, connect=5.0) if streaming else httpx.USE_CLIENT_DEFAULT,
    )
    if not streaming:
        upstream = await client.send(outgoing, stream=True)
        return StreamingResponse(upstream.aiter_raw(), status_code=upstream.status_code,
                                 headers=_answer_headers(upstream), background=BackgroundTask(upstream.aclose))
    slot = request.app.state.streams.claim(principal.subject)
    try:
        upstream = await request.app.state.stream_http.send(outgoing, stream=True)
    except BaseException:
        slot.release()
        raise
    body = upstream.aiter_raw()
    session_id = getattr(request.state, "session_id", None)
    if session_id:
        body = while_open(body, lambda: request.app.state.authenticate.session_open(session_id))
    return HeldStream(body, status_code=upstream.status_code, headers=_answer_headers(upstream),
                      background=BackgroundTask(upstream.aclose), slot=slot)


def _answer_headers(upstream: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in upstream.headers.items() if k.lower() not in _DROP_RESPONSE}
