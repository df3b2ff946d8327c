"""The API gateway: authentication, routing with forwarded identity, the merged OpenAPI."""

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contracts.keys import public_key_of
from backbone.service import ConsumerSpec, Runtime, ServiceSpec, create_service
from backbone.settings import get_settings
from backbone.streams import StreamSlots
from contracts.catalog import topic_for
from gateway import api, projections
from gateway.accounts import api as accounts_api, browser_api, keys_api
from gateway.applications import api as applications_api, projections as applications_projections
from gateway.applications import answers, review_api, users_api
from gateway.audit import api as audit_api, consumers as audit_consumers
from gateway.audit.recording import AuditMiddleware
from gateway.audit.trail import AuditTrail
from gateway.auth import Authenticator, bootstrap_accounts, guard
from gateway.console import serve_console
from gateway.exports import api as exports_api
from gateway.inbox import api as inbox_api
from gateway.exports.projections import project_exports
from gateway.routing import forwarded, new_client
from gateway.usage import api as usage_api


async def _edge(runtime: Runtime) -> None:
    settings = runtime.settings
    if public_key_of(settings.identity_private_key.get_secret_value()) != settings.identity_public_key:
        # Every forwarded request would be refused by the services: better not to start.
        raise RuntimeError("FUNDWATCH_IDENTITY_PUBLIC_KEY is not the public half of FUNDWATCH_IDENTITY_PRIVATE_KEY")
    app.state.http = new_client()
    app.state.stream_http = new_client(runtime.settings.max_streams)
    app.state.streams = StreamSlots(per_person=runtime.settings.max_streams_per_person,
                                    total=runtime.settings.max_streams, service="gateway")
    app.state.authenticate = Authenticator(runtime.engine, runtime.settings)


async def _close_edge(_: Runtime) -> None:
    await app.state.http.aclose()
    await app.state.stream_http.aclose()


async def _start_audit(runtime: Runtime) -> None:
    app.state.audit = AuditTrail(runtime.engine)
    runtime.tasks.append(app.state.audit.start())


async def _stop_audit(_: Runtime) -> None:
    await app.state.audit.stop()


spec = ServiceSpec(
    name="gateway",
    title="FundWatch gateway",
    metadata=projections.metadata,
    routers=[accounts_api.router, browser_api.router, keys_api.router, applications_api.router, review_api.router, users_api.router,
             exports_api.router, audit_api.router, inbox_api.router, usage_api.router, api.router],
    inline_projections=[projections.project_users, applications_projections.project_applications, project_exports],
    consumers=[ConsumerSpec(name="gateway-audit", topics=(topic_for("registry"),), handlers=audit_consumers.handlers),
               # The province's answers to forwarded applications, through the exchange (sync).
               ConsumerSpec(name="gateway-answers", topics=(topic_for("sync"),),
                            handlers=lambda runtime: answers.handlers(
                                runtime, lambda username: app.state.authenticate.forget_sessions(username)))],
    on_startup=[bootstrap_accounts, _edge, _start_audit],
    on_shutdown=[_close_edge, _stop_audit],
    openapi_url="/api/v1/gateway/openapi.json",
    idempotency_keys=False,
    guard=guard,
    forwards=forwarded,
)
app = create_service(spec)
serve_console(app, get_settings().console_dir)
# Strict CORS: only the origins an operator lists may call from a browser, and never with cookies (the console's
# session cookie is for the gateway's own origin, where it is served); without a list, browsers keep to that origin.
app.add_middleware(CORSMiddleware, allow_origins=get_settings().cors_origins, allow_credentials=False,
                   allow_methods=["GET", "POST", "PUT"], allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
                   expose_headers=["Retry-After", "Content-Disposition"], max_age=600)
app.add_middleware(AuditMiddleware, trusted_proxies=get_settings().trusted_proxies)

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"strict-transport-security", b"max-age=31536000; includeSubDomains"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"cache-control", b"no-store"),
]


class SecurityHeaders:
    """Every answer of the public edge says how browsers must treat it; API answers are never cached. Plain ASGI,
    added to the start of each answer: every request passes here, and a streamed one (an alert stream, a
    proxied file) flows on untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *((name, value) for name, value in SECURITY_HEADERS if name not in present)]
            await send(message)

        await self.app(scope, receive, with_headers)


app.add_middleware(SecurityHeaders)
