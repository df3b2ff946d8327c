"""`Idempotency-Key` on POST: the same request twice gets the first answer, nothing new.

A key is remembered for `FUNDWATCH_IDEMPOTENCY_HOURS` (24). What tells two requests under one key apart is a
keyed digest (HMAC-SHA256 under `FUNDWATCH_RECORD_DIGEST_KEY`): a plain hash of a body that carries an ID
number (a payment search) could be reversed offline by trying the numbers.
"""

import hashlib
import hmac
import time
from collections.abc import Callable
from datetime import timedelta
from uuid import UUID, uuid4, uuid5

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response

from backbone.errors import PROBLEM_JSON, Unauthorized, fault, problem
from backbone.identity import IDENTITY_HEADER, forwarded_principal
from backbone.settings import get_settings
from backbone.tables import PlumbingTables

HEADER = "Idempotency-Key"
REPLAYED = "Idempotency-Replayed"
# Ids of records created under an Idempotency-Key, where a route keeps its own (the gateway's routes).
_KEYED_IDS = UUID("6f1c2b0e-25a3-4c8e-9d1f-3a5e7b9c0d21")


def keyed_id(kind: str, caller: str, key: str | None) -> str:
    """The id of a record a caller creates: the same for the same Idempotency-Key, else a new one."""
    return str(uuid5(_KEYED_IDS, f"{kind}\n{caller}\n{key}") if key else uuid4())
STALE_CLAIM = timedelta(minutes=5)
PURGE_SECONDS = 300.0  # how often a process drops the keys whose time is up


class IdempotencyMiddleware(BaseHTTPMiddleware):
    """Remembers the response of each (caller, Idempotency-Key) of a POST."""

    def __init__(self, app, *, engine_factory: Callable[[], AsyncEngine], tables: PlumbingTables) -> None:  # noqa: ANN001
        super().__init__(app)
        self.engine_factory = engine_factory
        self.keys = tables.idempotency_keys
        self._purged = 0.0

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
                           errors=[fault(HEADER, "at most 200 characters")])
        try:
            principal = forwarded_principal(request, request.headers.get(IDENTITY_HEADER)).subject
        except Unauthorized:
            return await call_next(request)
        body = await request.body()
        settings = get_settings()
        digest = hmac.new(settings.record_digest_key.get_secret_value().encode(), b"\0".join(
            [request.method.encode(), request.url.path.encode(), request.url.query.encode(), body]),
            hashlib.sha256).hexdigest()
        k = self.keys.c
        where = (k.principal == principal) & (k.key == key)
        kept = timedelta(hours=settings.idempotency_hours)
        async with self.engine.begin() as conn:
            # A claim left unanswered (its process died mid-request) expires and may be taken again, and an
            # answer is forgotten once its time is up.
            await conn.execute(delete(self.keys).where(where, or_(
                k.status.is_(None) & (k.created_at < func.now() - STALE_CLAIM), k.created_at < func.now() - kept)))
            if time.monotonic() - self._purged > PURGE_SECONDS:
                self._purged = time.monotonic()
                await conn.execute(delete(self.keys).where(k.created_at < func.now() - kept))
            claimed = await conn.execute(
                pg_insert(self.keys).values(principal=principal, key=key, request_hash=digest)
                .on_conflict_do_nothing().returning(k.key)
            )
            if claimed.first() is None:
                row = (await conn.execute(select(self.keys).where(where))).one()
                if row.request_hash != digest:
                    return problem(422, "idempotency-key-reused", "Idempotency-Key reused",
                                   f"{HEADER} {key!r} was used before for a different request",
                                   errors=[fault(HEADER, "reused with a different request")])
                if row.status is None:
                    return problem(409, "request-in-progress", "Request in progress",
                                   f"the request with {HEADER} {key!r} is still being processed")
                return Response(row.body, status_code=row.status, headers={REPLAYED: "true"},
                                media_type=PROBLEM_JSON if row.status >= 400 else "application/json")
        try:
            response = await call_next(request)
            chunks = [chunk async for chunk in response.body_iterator]  # type: ignore[attr-defined]
        except BaseException:
            await self._release(where)
            raise
        payload = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks)
        if response.status_code >= 500:
            await self._release(where)
        else:
            async with self.engine.begin() as conn:
                await conn.execute(update(self.keys).where(where).values(status=response.status_code, body=payload))
        return Response(payload, status_code=response.status_code, headers=dict(response.headers),
                        media_type=response.media_type)

    async def _release(self, where: ColumnElement[bool]) -> None:
        """Forget a claim whose request failed, so that the caller's retry is processed."""
        async with self.engine.begin() as conn:
            await conn.execute(delete(self.keys).where(where))
