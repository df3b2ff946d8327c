"""Idempotency keys on real PostgreSQL: the request is told apart by a keyed digest (an ID number in a body
cannot be found again by hashing candidates), and a key is forgotten once its time is up."""

import hashlib
from datetime import timedelta
from itertools import count

import httpx
import pytest
from fastapi import FastAPI, Request
from sqlalchemy import select, update

from backbone.idempotency import HEADER, REPLAYED, IdempotencyMiddleware
from backbone.identity import IDENTITY_HEADER, Principal, audience_of, issue_internal_token
from backbone.settings import get_settings

pytestmark = pytest.mark.integration


def app_for(engine, kit) -> FastAPI:
    calls = count(1)
    app = FastAPI()
    app.state.service = "payments"
    app.add_middleware(IdempotencyMiddleware, engine_factory=lambda: engine, tables=kit.tables)

    @app.post("/payments/search")
    async def search(request: Request) -> dict[str, int]:
        await request.body()
        return {"call": next(calls)}

    return app


async def test_the_digest_is_keyed_and_a_key_is_forgotten_when_its_time_is_up(engine, kit):
    app = app_for(engine, kit)
    identity = issue_internal_token(Principal(subject="auditor", roles=["supervision"], org_unit="220100", pii=True),
                                    get_settings().identity_private_key.get_secret_value(), audience_of("payments"))
    headers = {IDENTITY_HEADER: identity, HEADER: "search-1", "content-type": "application/json"}
    body = b'{"payee_id_number": "11010519491231002X"}'
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as client:
        first = await client.post("/payments/search", content=body, headers=headers)
        again = await client.post("/payments/search", content=body, headers=headers)
        assert first.json() == again.json() == {"call": 1} and again.headers[REPLAYED] == "true"
        async with engine.connect() as conn:
            stored = (await conn.execute(select(kit.tables.idempotency_keys.c.request_hash))).scalar_one()
        plain = hashlib.sha256(b"\0".join([b"POST", b"/payments/search", b"", body])).hexdigest()
        assert stored != plain, "a plain hash of the body would give the ID number away to a dictionary"
        # A day later the key is forgotten: the same request is answered anew.
        async with engine.begin() as conn:
            keys = kit.tables.idempotency_keys
            kept = timedelta(hours=get_settings().idempotency_hours)
            await conn.execute(update(keys).values(created_at=keys.c.created_at - kept - timedelta(minutes=1)))
        later = await client.post("/payments/search", content=body, headers=headers)
    assert later.json() == {"call": 2} and REPLAYED not in later.headers
