"""Domain errors and their one mapping to RFC 9457 problem details."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

import structlog

log = structlog.get_logger(__name__)

PROBLEM_JSON = "application/problem+json"


class DomainError(Exception):
    """An error a caller can act on; carries its HTTP status and problem type."""

    status: int = 400
    type_name: str = "domain-error"
    title: str = "Request refused"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(DomainError):
    status = 404
    type_name = "not-found"
    title = "Not found"


class ConcurrencyConflict(DomainError):
    """Someone else appended to the stream first (optimistic concurrency)."""

    status = 409
    type_name = "concurrency-conflict"
    title = "The record was changed by someone else"


class Unauthorized(DomainError):
    status = 401
    type_name = "unauthorized"
    title = "Authentication required"


class Forbidden(DomainError):
    status = 403
    type_name = "forbidden"
    title = "Not allowed"


class Gone(DomainError):
    """What was there and will not be again: a co-signed export already downloaded, or past its time."""

    status = 410
    type_name = "gone"
    title = "No longer available"


class PayloadTooLarge(DomainError):
    """A file or body above its configured limit."""

    status = 413
    type_name = "payload-too-large"
    title = "Too large"


class ServiceUnavailable(DomainError):
    status = 503
    type_name = "service-unavailable"
    title = "Service unavailable"


class InvalidInput(DomainError):
    """Input that passed the schema but breaks a rule; names the fields at fault."""

    status = 422
    type_name = "invalid-input"
    title = "Invalid input"


def field_errors(errors: list[dict[str, Any]], *, strip: int = 0) -> list[dict[str, Any]]:
    """Pydantic errors as `{field, message, type}` with a dotted field path."""
    out = []
    for err in errors:
        loc = [str(part) for part in err.get("loc", ())][strip:]
        out.append({"field": ".".join(loc), "message": err.get("msg", ""), "type": err.get("type")})
    return out


def problem(status: int, type_name: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    """A problem-details response."""
    body = {
        "type": f"https://fundwatch.changchun.gov.cn/problems/{type_name}",
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def install_problem_handlers(app: FastAPI) -> None:
    """Every error of a service leaves as problem details, never as a stack trace."""

    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return problem(exc.status, exc.type_name, exc.title, exc.detail, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = field_errors(list(exc.errors()))
        fields = ", ".join(e["field"] for e in errors)
        return problem(422, "invalid-input", "Invalid input", f"Invalid fields: {fields}", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, "http-error", str(exc.detail), str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("request.failed", path=request.url.path)
        return problem(500, "internal-error", "Internal error", "The request could not be completed.")
