"""Gateway routes: sign-in, the merged OpenAPI document, and the proxy to the services."""

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.responses import StreamingResponse

import structlog

from backbone.errors import DomainError, ServiceUnavailable
from backbone.service import RuntimeDep
from gateway.auth import login
from gateway.routing import SERVICES, forward

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/api/v1")


class TokenRequest(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


@router.post("/auth/token", response_model=TokenResponse, tags=["auth"])
async def token(body: TokenRequest, request: Request, runtime: RuntimeDep) -> TokenResponse:
    """Sign in with user name and password; machines send `X-Api-Key` instead."""
    request.state.audit_actor = body.username
    access = await login(runtime.engine, runtime.settings, body.username, body.password)
    return TokenResponse(access_token=access, expires_in=runtime.settings.token_ttl_seconds)


@router.get("/openapi.json", include_in_schema=False)
async def merged_openapi(request: Request, runtime: RuntimeDep) -> JSONResponse:
    """The whole public API in one document: the gateway's own routes and every service's."""
    return JSONResponse(await merge_openapi(request, runtime))


async def merge_openapi(request: Request, runtime: RuntimeDep) -> dict[str, Any]:
    client = request.app.state.http
    merged: dict[str, Any] = {"openapi": "3.1.0", "info": {"title": "FundWatch public API", "version": "1.0.0"},
                              "paths": {}, "components": {"schemas": {}}}
    own = request.app.openapi()
    docs = [own] + [r.json() for r in await asyncio.gather(
        *(client.get(f"{runtime.settings.service_url(s)}/api/v1/openapi.json") for s in SERVICES))]
    for doc in docs:
        merged["paths"].update({p: v for p, v in doc.get("paths", {}).items() if p.startswith("/api/v1/")})
        merged["components"]["schemas"].update(doc.get("components", {}).get("schemas", {}))
    merged["components"]["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
        "apiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
    }
    merged["security"] = [{"bearer": []}, {"apiKey": []}]
    return merged


@router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
async def proxy(path: str, request: Request, runtime: RuntimeDep) -> StreamingResponse:
    """Everything else belongs to a service: authenticate, then forward."""
    principal = request.state.principal = await request.app.state.authenticate(request)
    try:
        return await forward(request, path, principal, request.app.state.http, runtime.settings)
    except DomainError:
        raise
    except Exception as exc:
        log.warning("gateway.upstream_failed", path=path, error=repr(exc))
        raise ServiceUnavailable(f"the service behind /api/v1/{path} is not reachable") from exc
