"""Domain errors and their one mapping to RFC 9457 problem details."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

import structlog

log = structlog.get_logger(__name__)

PROBLEM_JSON = "application/problem+json"


# Seconds a caller waits before trying again while the database is unreachable (a restart takes a few).
DATABASE_RETRY_AFTER = 5


class DomainError(Exception):
    """An error a caller can act on; carries its HTTP status and problem type."""

    status: int = 400
    type_name: str = "domain-error"
    title: str = "Request refused"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra
        self.headers: dict[str, str] = {}


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


class BodyTooLarge(StarletteHTTPException):
    """A request body that grew past its limit while the route was reading it. An HTTP exception rather than a
    domain error because FastAPI turns anything else raised while it parses a body into a 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


class TooManyRequests(DomainError):
    """Over the caller's rate limit; `retry_after` seconds until a request is admitted again."""

    status = 429
    type_name = "too-many-requests"
    title = "Too many requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.headers = {"Retry-After": str(retry_after)}


class EventTooLarge(DomainError):
    """What was asked for would make an event larger than the broker carries: refused before anything is stored."""

    status = 422
    type_name = "event-too-large"
    title = "Too large for one event"


class ServiceUnavailable(DomainError):
    status = 503
    type_name = "service-unavailable"
    title = "Service unavailable"


class InvalidInput(DomainError):
    """Input that passed the schema but breaks a rule; names the fields at fault."""

    status = 422
    type_name = "invalid-input"
    title = "Invalid input"


class FieldFault(BaseModel):
    """One fault of the input: a field by its dotted path (e.g. payments.3.amount), or a file's row and column."""

    model_config = ConfigDict(extra="allow")

    field: str | None = None
    message: str


def fault(field: str | None, message: str, **more: Any) -> dict[str, Any]:
    """One fault of the input, in the one shape every error names its fields with (FieldFault); `more` adds a
    file's row and column or a record's index."""
    FieldFault(field=field, message=message, **more)  # the shape is checked, the values are kept as given
    return {"field": field, "message": message, **more}


class ProblemDetails(BaseModel):
    """RFC 9457 problem details: the one shape of every error FundWatch answers with."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldFault] | None = Field(None, description="Each field at fault, for invalid input.")


ERROR_STATUSES = {"400": "Bad request", "401": "Not signed in, or the session is over",
                  "403": "Not allowed for the caller's roles or data scope", "404": "Not found",
                  "409": "Conflicts with the record's state", "410": "Gone", "413": "Too large",
                  "422": "Invalid input, with each field at fault", "429": "Over the rate limit (see Retry-After)",
                  "503": "A service or background loop is unavailable"}


def document_problems(openapi: dict[str, Any]) -> dict[str, Any]:
    """Every operation of an OpenAPI document answers its errors as problem details (FastAPI would
    describe its own validation error instead)."""
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = ProblemDetails.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem_schema.pop("$defs", {}))
    schemas["Problem"] = problem_schema
    content = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for operations in openapi.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_STATUSES.items():
                responses[status] = {"description": description, "content": content}
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return openapi


def field_errors(errors: list[dict[str, Any]], *, strip: int = 0) -> list[dict[str, Any]]:
    """Pydantic errors as `{field, message, type}` with a dotted field path."""
    out = []
    for err in errors:
        loc = [str(part) for part in err.get("loc", ())][strip:]
        out.append(fault(".".join(loc), err.get("msg", ""), type=err.get("type")))
    return out


def problem(status: int, type_name: str, title: str, detail: str, headers: dict[str, str] | None = None,
            **extra: Any) -> JSONResponse:
    """A problem-details response."""
    body = {
        "type": f"https://fundwatch.changchun.gov.cn/problems/{type_name}",
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def install_problem_handlers(app: FastAPI) -> None:
    """Every error of a service leaves as problem details, never as a stack trace."""

    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return problem(exc.status, exc.type_name, exc.title, exc.detail, headers=exc.headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = field_errors(list(exc.errors()))
        fields = ", ".join(e["field"] for e in errors)
        return problem(422, "invalid-input", "Invalid input", f"Invalid fields: {fields}", errors=errors)

    @app.exception_handler(BodyTooLarge)
    async def _too_large(_: Request, exc: BodyTooLarge) -> JSONResponse:
        return problem(413, PayloadTooLarge.type_name, PayloadTooLarge.title, str(exc.detail))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, "http-error", str(exc.detail), str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        """Starlette raises the exception again once this answer is sent, and uvicorn then closes the connection:
        the answer says so, or the gateway would send its next request down a connection about to close and get
        a ReadError (a 503 for a request that never reached the service)."""
        from backbone.db import database_unreachable

        if database_unreachable(exc):
            log.warning("request.database_unreachable", path=request.url.path, error=repr(exc))
            return problem(503, "database-unavailable", "Service unavailable",
                           "The database cannot be reached right now; nothing was changed. Try again shortly.",
                           headers={"Retry-After": str(DATABASE_RETRY_AFTER), "Connection": "close"})
        log.exception("request.failed", path=request.url.path)
        return problem(500, "internal-error", "Internal error", "The request could not be completed.",
                       headers={"Connection": "close"})
