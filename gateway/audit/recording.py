"""What the gateway writes into the audit trail as requests pass (第二十八条; 等级保护 2.0 安全审计):
every write under /api/v1 whatever its outcome, every sign-in attempt, every export, and every request
refused for its credentials or its permissions (a 401 to credentials that were sent, a 403), reads
included. Reads of unmasked personal data happen in the payments service and arrive as events
(consumers.py).

Nothing of a request's body is kept, and ID numbers in a path are masked.
"""

import ipaddress
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from opentelemetry import trace
from pydantic import IPvAnyNetwork
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backbone.access import template_of
from backbone.clock import clock
from backbone.pii import redact_id_numbers
from gateway.audit.chain import AuditEntry

API = "/api/v1/"
SIGN_IN = "/api/v1/auth/token"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOGIN, LOGIN_FAILED = "auth.login", "auth.login_failed"
ANONYMOUS = "anonymous"
MAX_TEXT = 1000


def audited(method: str, path: str) -> bool:
    """Whether a request goes into the trail: writes, and files leaving the platform (any GET of a path with
    `/export`, and the seed's forms such as 附件3 at `…/form`)."""
    leaves = method == "GET" and ("/export" in path or path.rstrip("/").endswith("/form"))
    return path.startswith(API) and (method in WRITES or leaves)


def refused(status: int, headers: Headers) -> bool:
    """Whether an answer is a security event whatever the request: credentials that did not hold (a request
    that sent none is only told to sign in), or a caller reaching beyond its roles or scope."""
    return status == 403 or (status == 401 and ("authorization" in headers or "x-api-key" in headers))


def action_of(method: str, path: str, status: int) -> str:
    """The endpoint as the access table names it (`POST /api/v1/indicators/{indicator_id}/allocations`; the
    concrete path is the target), or `auth.login` / `auth.login_failed` for a sign-in."""
    if method == "POST" and path.rstrip("/") == SIGN_IN:
        return LOGIN if status < 400 else LOGIN_FAILED
    return storable(f"{method} {template_of(method, path) or path}")


def target_of(path: str, query: str) -> str:
    """The path with its query (what an export selected)."""
    return storable(f"{path}?{query}" if query else path)


def storable(text: str) -> str:
    """Text a caller chose, as it may be kept: ID numbers masked, no NUL (PostgreSQL refuses it in text,
    and one refused entry would hold up its whole batch), not longer than MAX_TEXT."""
    return redact_id_numbers(text.replace("\x00", "\ufffd"))[:MAX_TEXT]


def client_ip(peer: str | None, forwarded_for: str | None, trusted: Sequence[IPvAnyNetwork]) -> str | None:
    """The caller's address: walking X-Forwarded-For from the right (each proxy appends the address it saw),
    the first hop that is not a trusted proxy; the peer itself when it is no trusted proxy (anyone else can
    write any X-Forwarded-For, and what a client wrote stands on the left)."""
    if peer is None or not forwarded_for or not _within(peer, trusted):
        return peer
    for hop in reversed([h.strip() for h in forwarded_for.split(",")]):
        try:
            address = str(ipaddress.ip_address(hop))
        except ValueError:
            return peer
        if not _within(address, trusted):
            return address
    return peer


def caller_ip(scope: Scope, trusted: Sequence[IPvAnyNetwork]) -> str | None:
    """The address a request came from, as `client_ip` judges it from the connection and its headers."""
    peer = scope["client"][0] if scope.get("client") else None
    return client_ip(peer, Headers(scope=scope).get("x-forwarded-for"), trusted)


def _within(address: str, networks: Sequence[IPvAnyNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def current_trace_id() -> str | None:
    """The W3C trace id of the request being answered."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def actor_of(state: dict[str, Any]) -> tuple[str, str | None]:
    """Who made the request: the authenticated caller, else the user name a sign-in tried."""
    principal = state.get("principal")
    if principal is not None:
        return principal.subject, principal.org_unit
    return storable(state.get("audit_actor") or ANONYMOUS), None


class AuditMiddleware:
    """Records each audited request once it is answered; the request never waits for the database."""

    def __init__(self, app: ASGIApp, *, trusted_proxies: Sequence[IPvAnyNetwork] = ()) -> None:
        self.app = app
        self.trusted_proxies = list(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API):
            await self.app(scope, receive, send)
            return
        at = clock().now()
        # The routes below note the caller here (request.state is this dict).
        state = scope.setdefault("state", {})
        status = 500  # what the caller gets when the gateway fails before answering

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            if audited(scope["method"], scope["path"]) or refused(status, Headers(scope=scope)):
                await self._record(scope, state, at, status)

    async def _record(self, scope: Scope, state: dict[str, Any], at: datetime, status: int) -> None:
        actor, org_unit = actor_of(state)
        await scope["app"].state.audit.record(AuditEntry(
            at=at, actor=actor, org_unit=org_unit, client_ip=caller_ip(scope, self.trusted_proxies),
            action=action_of(scope["method"], scope["path"], status),
            target=target_of(scope["path"], scope.get("query_string", b"").decode("latin-1")),
            outcome=str(status), trace_id=current_trace_id()))
