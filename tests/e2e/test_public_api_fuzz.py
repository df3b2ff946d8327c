"""The whole public API, as /api/v1/openapi.json describes it, under generated requests of a signed-in
administrator (schemathesis): no request makes a server error, and every answer matches the document."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

pytestmark = [pytest.mark.e2e, pytest.mark.fuzz]
# Left out: what would end the session the fuzzing uses, reset the administrator's own password,
# or keep a stream open forever.
LEFT_OUT = r"^/api/v1/(auth/(logout|password)|users/\{username\}/password-reset|alerts/stream)$"
EXAMPLES = 12


def test_no_server_error_and_every_answer_as_documented(stack):
    # schemathesis' pytest plugin reads pytest internals that pytest 9 no longer has: operations are walked here.
    schema = schemathesis.openapi.from_url(f"{stack.gateway}/api/v1/openapi.json").exclude(path_regex=LEFT_OUT)
    admin = stack.admin_headers()
    failures, walked = {}, 0
    for found in schema.get_all_operations():
        operation = found.ok()

        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case):
            case.call_and_validate(headers=admin, checks=[not_a_server_error, response_schema_conformance])
        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # each operation's failures, all reported together
            failures[operation.label] = str(exc)[:1500]
        walked += 1
    assert walked > 50
    assert failures == {}, "\n\n".join(f"{label}: {text}" for label, text in failures.items())
