"""Every role against every endpoint of the public API, through the gateway and straight at the services:
the access table says who is admitted, and both layers refuse everyone else (defence in depth)."""

import json
from pathlib import Path

import httpx
import pytest

from backbone.access import ACCESS, MACHINES, PEOPLE, PUBLIC
from gateway.routing import ROUTES, service_for
from tests.e2e.people import account, bearer, forwarded

pytestmark = pytest.mark.e2e
DOC = json.loads((Path(__file__).parents[2] / "contracts" / "openapi" / "public.json").read_text())
# Signing out ends the session the rest of the walk uses: it goes last.
LAST = "POST /api/v1/auth/logout"
ENDPOINTS = sorted((f"{m.upper()} {p}" for p, ops in DOC["paths"].items() for m in ops), key=lambda k: (k == LAST, k))
SCOPE = {"district": {"org_unit": "220102"}, "division": {"division": "agriculture"}}


def concrete(template: str) -> str:
    return "/".join("x-1" if part.startswith("{") else part for part in template.split("/"))


def call(client: httpx.Client, url: str, method: str, headers: dict[str, str]) -> httpx.Response:
    """One request with an empty body; a stream is only opened, never read."""
    kwargs = {"json": {}} if method == "POST" else {}
    with client.stream(method, url, headers=headers, **kwargs) as response:
        if "text/event-stream" not in response.headers.get("content-type", ""):
            response.read()
        return response


def refused_by_table(response: httpx.Response) -> bool:
    return response.status_code == 403 and " is for: " in response.json().get("detail", "")


@pytest.fixture(scope="module")
def credentials(stack, servers) -> dict[str, dict[str, str]]:
    """Headers of one signed-in person per role and one key per machine role."""
    found = {role: bearer(stack.gateway, account(servers.database_url, f"matrix-{role}", [role], **SCOPE.get(role, {})))
             for role in PEOPLE}
    admin = stack.admin_headers()
    with stack.client() as c:
        for role in MACHINES:
            key = c.post("/api-keys", headers=admin, json={"subject": f"matrix-{role}", "roles": [role]}).json()
            found[role] = {"X-Api-Key": key["api_key"]}
    return found


def test_the_gateway_admits_each_role_exactly_where_the_table_says(stack, credentials):
    wrong = []
    with httpx.Client(base_url=stack.gateway, timeout=30) as client:
        for role, headers in credentials.items():
            for endpoint in ENDPOINTS:
                method, template = endpoint.split(" ", 1)
                response = call(client, concrete(template), method, headers)
                allowed = ACCESS[endpoint] is PUBLIC or role in ACCESS[endpoint]
                if refused_by_table(response) == allowed or response.status_code >= 500:
                    wrong.append((role, endpoint, response.status_code, response.text[:120]))
    assert wrong == []


def test_each_service_checks_the_table_again_and_refuses_callers_without_an_identity(stack):
    served = [e for e in ENDPOINTS if e.split(" ", 1)[1].split("/")[3] in ROUTES
              or ("/dead-letters/" in e and "/dead-letters/gateway" not in e)]
    assert len(served) > 40
    wrong = []
    with httpx.Client(timeout=30) as client:
        for endpoint in served:
            method, template = endpoint.split(" ", 1)
            path = concrete(template)
            url = stack.processes.url(service_for(path.removeprefix("/api/v1/"))) + path
            if call(client, url, method, {}).status_code != 401:
                wrong.append(("no identity", endpoint))
            for role in sorted(PEOPLE | MACHINES):
                identity = forwarded(f"direct-{role}", [role], org_unit="220102", division="agriculture")
                response = call(client, url, method, dict(identity))
                if refused_by_table(response) == (role in ACCESS[endpoint]) or response.status_code >= 500:
                    wrong.append((role, endpoint, response.status_code, response.text[:120]))
    assert wrong == []
