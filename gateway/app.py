"""The API gateway: authentication, routing with forwarded identity, the merged OpenAPI."""

from backbone.service import Runtime, ServiceSpec, create_service
from gateway import api, keys_api, projections
from gateway.auth import Authenticator, bootstrap_accounts
from gateway.routing import new_client


async def _edge(runtime: Runtime) -> None:
    app.state.http = new_client()
    app.state.authenticate = Authenticator(runtime.engine, runtime.settings)


async def _close_edge(_: Runtime) -> None:
    await app.state.http.aclose()


spec = ServiceSpec(
    name="gateway",
    title="FundWatch gateway",
    metadata=projections.metadata,
    routers=[keys_api.router, api.router],
    inline_projections=[projections.project_users],
    on_startup=[bootstrap_accounts, _edge],
    on_shutdown=[_close_edge],
    openapi_url="/api/v1/gateway/openapi.json",
    idempotency_keys=False,
)
app = create_service(spec)
