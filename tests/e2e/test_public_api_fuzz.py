"""The whole public API, as /api/v1/openapi.json describes it, under generated requests (schemathesis) as every
role of the access table, each on the operations the table admits it to: no request makes a server error,
and every answer matches the document. Then chains of calls, each using ids the one before it answered with
(links schemathesis infers from the document), as the administrator."""

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from backbone.access import ACCESS, MACHINES, PEOPLE
from tests.e2e.people import account, bearer
from tests.e2e.test_access_matrix import SCOPE

pytestmark = [pytest.mark.e2e, pytest.mark.fuzz]
# Left out: what would end the session the fuzzing uses, reset the administrator's own password,
# or keep a stream open forever.
LEFT_OUT = r"^/api/v1/(auth/(logout|password)|users/\{username\}/password-reset|alerts/stream)$"
# Examples per operation: the administrator reaches every operation; the roles whose data scope shapes the
# queries (a district, a division) get more than the other roles, whose operations the administrator
# walks too.
EXAMPLES = {"admin": 12, "district": 8, "division": 8}
OTHERS = 4
CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture(scope="module")
def schema(stack):
    return schemathesis.openapi.from_url(f"{stack.gateway}/api/v1/openapi.json").exclude(path_regex=LEFT_OUT)


@pytest.fixture(scope="module")
def credentials(stack, servers) -> dict[str, dict[str, str]]:
    """Headers of every role, taken before any fuzzing: what the administrator's fuzzing does to its own
    account (a second factor, say) must not keep the others from being signed in."""
    admin = stack.admin_headers()
    found = {"admin": admin}
    for role in sorted(PEOPLE - {"admin"}):
        found[role] = bearer(stack.gateway, account(servers.database_url, f"fuzz-{role}", [role],
                                                    **SCOPE.get(role, {})))
    with stack.client() as c:
        for role in sorted(MACHINES):
            key = c.post("/api-keys", headers=admin, json={"subject": f"fuzz-{role.replace('_', '-')}",
                                                           "roles": [role]})
            found[role] = {"X-Api-Key": key.json()["api_key"]}
    return found


# The administrator last: its fuzzing may change what the others' requests meet.
@pytest.mark.parametrize("role", [*sorted((PEOPLE | MACHINES) - {"admin"}), "admin"])
def test_no_server_error_and_every_answer_as_documented_for_every_role(credentials, schema, role):
    # schemathesis' pytest plugin reads pytest internals that pytest 9 no longer has: operations are walked here.
    headers = credentials[role]
    examples = EXAMPLES.get(role, OTHERS)
    failures, walked = {}, set()
    for found in schema.get_all_operations():
        operation = found.ok()
        if role not in ACCESS.get(operation.label, ()):
            continue

        @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case):
            case.call_and_validate(headers=headers, checks=CHECKS)
        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # each operation's failures, all reported together
            failures[operation.label] = str(exc)[:1500]
        walked.add(operation.label)
    assert walked == {endpoint for endpoint, roles in ACCESS.items()
                      if role in roles and not re.match(LEFT_OUT, endpoint.split(" ", 1)[1])}
    assert failures == {}, "\n\n".join(f"{label}: {text}" for label, text in failures.items())


def test_chains_of_calls_on_real_ids_make_no_server_error(credentials, schema):
    admin = credentials["admin"]
    workflow = schema.as_state_machine()
    assert workflow.bundles, "schemathesis found links between the operations"

    class AsAdministrator(workflow):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case):
            return {"headers": admin}

        def validate_response(self, response, case, **kwargs):
            case.validate_response(response, checks=CHECKS)

    AsAdministrator.run(settings=settings(max_examples=40, stateful_step_count=6, deadline=None, derandomize=True,
                                          database=None, suppress_health_check=list(HealthCheck)))
