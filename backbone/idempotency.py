"""`Idempotency-Key` on POST: the same request twice gets the first answer, nothing new."""

import hashlib
from collections.abc import Callable

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response

from backbone.errors import Unauthorized, problem
from backbone.identity import IDENTITY_HEADER, read_internal_token
from backbone.settings import get_settings
from backbone.tables import PlumbingTables

HEADER = "Idempotency-Key"


class IdempotencyMiddleware(BaseHTTPMiddleware):
    """Remembers the response of each (caller, Idempotency-Key) of a POST."""

    def __init__(self, app, *, engine_factory: Callable[[], AsyncEngine], tables: PlumbingTables) -> None:  # noqa: ANN001
        super().__init__(app)
        self.engine_factory = engine_factory
        self.keys = tables.idempotency_keys

    @property
    def engine(self) -> AsyncEngine:
        # The engine is created in the lifespan, after the middleware stack is built.
        return self.engine_factory()

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        key = request.headers.get(HEADER)
        if request.method != "POST" or not key:
            return await call_next(request)
        if len(key) > 200:
            return problem(422, "invalid-input", "Invalid input", f"{HEADER} is longer than 200 characters",
                           errors=[{"field": HEADER, "message": "at most 200 characters"}])
        try:
            principal = read_internal_token(request.headers.get(IDENTITY_HEADER, ""),
                                            get_settings().internal_secret.get_secret_value()).subject
        except Unauthorized:
            return await call_next(request)
        body = await request.body()
        digest = hashlib.sha256(request.method.encode() + request.url.path.encode() + b"\0" + body).hexdigest()
        k = self.keys.c
        async with self.engine.begin() as conn:
            claimed = await conn.execute(
                pg_insert(self.keys).values(principal=principal, key=key, request_hash=digest)
                .on_conflict_do_nothing().returning(k.key)
            )
            if claimed.first() is None:
                row = (await conn.execute(select(self.keys).where(k.principal == principal, k.key == key))).one()
                if row.request_hash != digest:
                    return problem(422, "idempotency-key-reused", "Idempotency-Key reused",
                                   f"{HEADER} {key!r} was used before for a different request",
                                   errors=[{"field": HEADER, "message": "reused with a different request"}])
                if row.status is None:
                    return problem(409, "request-in-progress", "Request in progress",
                                   f"the request with {HEADER} {key!r} is still being processed")
                return Response(row.body, status_code=row.status, media_type="application/json",
                                headers={"Idempotency-Replayed": "true"})
        response = await call_next(request)
        chunks = [chunk async for chunk in response.body_iterator]  # type: ignore[attr-defined]
        payload = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks)
        async with self.engine.begin() as conn:
            where = (k.principal == principal) & (k.key == key)
            if response.status_code >= 500:
                await conn.execute(delete(self.keys).where(where))
            else:
                await conn.execute(update(self.keys).where(where).values(status=response.status_code, body=payload))
        return Response(payload, status_code=response.status_code, headers=dict(response.headers),
                        media_type=response.media_type)
