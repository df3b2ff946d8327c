"""Gateway routes: the merged OpenAPI document, and the proxy to the services."""

import asyncio
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.responses import StreamingResponse

import httpx
import structlog

from backbone.errors import DomainError, ServiceUnavailable
from backbone.service import RuntimeDep
from gateway.exports.domain import refuse_direct_export
from gateway.openapi import merge
from gateway.routing import SERVICES, forward

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/api/v1")


# The document is public and costs a call to every service: it is merged at most this often per process.
OPENAPI_CACHE_SECONDS = 60.0


@router.get("/openapi.json", include_in_schema=False)
async def merged_openapi(request: Request, runtime: RuntimeDep) -> JSONResponse:
    """The whole public API in one document: the gateway's own routes and every service's."""
    cached = getattr(request.app.state, "openapi", None)
    if cached is None or time.monotonic() - cached[0] > OPENAPI_CACHE_SECONDS:
        cached = request.app.state.openapi = (time.monotonic(), await merge_openapi(request, runtime))
    return JSONResponse(cached[1])


async def merge_openapi(request: Request, runtime: RuntimeDep) -> dict[str, Any]:
    client = request.app.state.http
    try:
        answers = await asyncio.gather(
            *(client.get(f"{runtime.settings.service_url(s)}/api/v1/openapi.json") for s in SERVICES))
        docs = {s: r.raise_for_status().json() for s, r in zip(SERVICES, answers, strict=True)}
    except httpx.HTTPError as exc:
        raise ServiceUnavailable("a service did not give its part of the API document; try again") from exc
    # The order of contracts/generate.py, so that a renamed schema gets the same name in both.
    return merge({**docs, "gateway": request.app.openapi()})


# PUT: a row replaced whole (the liaison register), idempotent by its nature.
@router.api_route("/{path:path}", methods=["GET", "POST", "PUT"], include_in_schema=False)
async def proxy(path: str, request: Request, runtime: RuntimeDep) -> StreamingResponse:
    """Everything else belongs to a service: authenticate, then forward."""
    refuse_direct_export(path)
    try:
        return await forward(request, path, request.state.principal, request.app.state.http, runtime.settings)
    except DomainError:
        raise
    except Exception as exc:
        log.warning("gateway.upstream_failed", path=path, error=repr(exc))
        raise ServiceUnavailable(f"the service behind /api/v1/{path} is not reachable") from exc
