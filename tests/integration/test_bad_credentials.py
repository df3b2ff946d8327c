"""Credentials that do not hold, counted per client address at the gateway against real PostgreSQL: guessing is
held back (429), while credentials that hold are admitted from the same address."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from starlette.requests import Request

from backbone.errors import TooManyRequests, Unauthorized
from gateway.auth import Authenticator, key_digest
from gateway.projections import api_keys

pytestmark = pytest.mark.integration


def request(headers: dict[str, str], address: str = "203.0.113.9") -> Request:
    return Request({"type": "http", "method": "GET", "path": "/api/v1/alerts", "query_string": b"",
                    "headers": [(k.encode(), v.encode()) for k, v in headers.items()], "client": (address, 40000)})


async def test_an_address_guessing_keys_is_held_back_and_a_valid_key_from_it_still_works(servers, engine):
    authenticate = Authenticator(engine, servers.settings(FUNDWATCH_RATE_LIMIT_SIGN_IN="3/minute"))
    key, now = f"fw_{uuid4().hex}", datetime.now(UTC)
    async with engine.begin() as conn:
        await conn.execute(api_keys.insert().values(
            key_hash=key_digest(key), key_id=key_digest(key)[:12], subject="guess-test", roles=["treasury_system"],
            org_unit="220100", created_at=now, expires_at=now + timedelta(days=1), bootstrap=False))
    for _ in range(3):
        with pytest.raises(Unauthorized):
            await authenticate(request({"x-api-key": "fw_guess"}))
    with pytest.raises(TooManyRequests):
        await authenticate(request({"x-api-key": "fw_guess"}))
    with pytest.raises(TooManyRequests):
        await authenticate(request({"authorization": "Bearer not-a-token"}))
    assert (await authenticate(request({"x-api-key": key}))).subject == "guess-test"
    with pytest.raises(Unauthorized):
        await authenticate(request({"x-api-key": "fw_guess"}, address="198.51.100.4"))


async def test_sign_ins_from_one_shared_address_are_limited_per_name_so_one_guesser_locks_out_nobody_else(
        servers, engine):
    # Everyone behind one office NAT (or an ingress without trusted proxies) shares an address.
    authenticate = Authenticator(engine, servers.settings(FUNDWATCH_RATE_LIMIT_SIGN_IN="3/minute",
                                                          FUNDWATCH_RATE_LIMIT_SIGN_IN_ADDRESS="10/minute"))
    shared = request({}, address="192.0.2.10")
    for _ in range(3):
        await authenticate.admit_sign_in(shared, "admin")
    with pytest.raises(TooManyRequests):
        await authenticate.admit_sign_in(shared, "Admin ")
    await authenticate.admit_sign_in(shared, "南关区财政局-赵")  # a colleague behind the same address signs in
    # A flood of names from one address still meets the address's ceiling.
    with pytest.raises(TooManyRequests):
        for n in range(20):
            await authenticate.admit_sign_in(shared, f"name-{n}")
