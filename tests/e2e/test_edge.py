"""The public edge: oversized bodies refused before they reach a service; security headers; strict CORS;
the one OpenAPI document as checked in."""

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import MAX_REQUEST_BYTES

pytestmark = pytest.mark.e2e


def test_an_oversized_body_is_refused_with_413_and_answers_carry_security_headers(stack):
    admin = stack.admin_headers()
    with stack.client() as c:
        big = c.post("/payments/batch", content=b"{" + b" " * MAX_REQUEST_BYTES + b"}",
                     headers=admin | {"content-type": "application/json"})
        assert big.status_code == 413 and big.headers["content-type"] == "application/problem+json"

        def unannounced():  # chunked: no content-length to refuse early, so the count as it streams decides
            yield b"{"
            for _ in range(MAX_REQUEST_BYTES // 65536 + 1):
                yield b" " * 65536
            yield b"}"
        chunked = c.post("/payments/batch", content=unannounced(), headers=admin | {"content-type": "application/json"})
        assert chunked.status_code == 413 and chunked.headers["content-type"] == "application/problem+json"
        ok = c.get("/alerts", headers=admin)
        assert ok.status_code == 200
        assert ok.headers["x-content-type-options"] == "nosniff" and ok.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in ok.headers["content-security-policy"]
        # Not signed in: refused before the body is even read.
        assert c.post("/payments/batch", content=b"x" * 10).status_code == 401


def test_browsers_of_other_origins_get_no_cors_grant(stack):
    with stack.client() as c:
        preflight = c.options("/alerts", headers={"Origin": "https://evil.example", "Access-Control-Request-Method":
                                                  "GET", "Access-Control-Request-Headers": "authorization"})
        assert "access-control-allow-origin" not in preflight.headers
        plain = c.get("/alerts", headers=stack.admin_headers() | {"Origin": "https://evil.example"})
        assert plain.status_code == 200 and "access-control-allow-origin" not in plain.headers


def test_the_gateway_serves_the_checked_in_public_openapi(stack):
    with stack.client() as c:
        served = c.get("/openapi.json").json()
    checked_in = json.loads((Path(__file__).parents[2] / "contracts" / "openapi" / "public.json").read_text())
    assert served == checked_in
