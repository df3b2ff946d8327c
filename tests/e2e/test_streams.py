"""Alert streams are capped per person and in all, at the gateway and at the service, so that a few callers
cannot hold every connection; a refused stream is a 429 with Retry-After, and a closed one frees its place."""

from contextlib import ExitStack

import httpx
import pytest

from backbone.settings import get_settings
from tests.e2e.people import forwarded, signed_in
from tests.support.waiting import poll

pytestmark = pytest.mark.e2e


def opened(stack: ExitStack, client: httpx.Client, url: str, headers: dict) -> httpx.Response:
    return stack.enter_context(client.stream("GET", url, headers=headers))


def test_a_person_holds_a_bounded_number_of_streams_and_others_still_get_theirs(stack):
    cap = get_settings().max_streams_per_person
    hoarder, colleague = signed_in("stream-hoarder", ["supervision"]), signed_in("stream-colleague", ["supervision"])
    url = f"{stack.gateway}/api/v1/alerts/stream"
    with httpx.Client(timeout=httpx.Timeout(10.0, read=None)) as client, ExitStack() as streams:
        held = [opened(streams, client, url, hoarder) for _ in range(cap)]
        assert [r.status_code for r in held] == [200] * cap
        with client.stream("GET", url, headers=hoarder) as refused:
            # The status first: reading a stream that was wrongly let through would wait for ever.
            assert refused.status_code == 429 and refused.headers["retry-after"] == "30"
            assert "at most" in refused.read().decode()
        with client.stream("GET", url, headers=colleague) as other:
            assert other.status_code == 200, "one person's streams do not crowd out another's"
        # Requests still go through while the streams are open.
        assert client.get(f"{stack.gateway}/api/v1/alerts", headers=colleague).status_code == 200
        held[0].close()

        def reopened() -> bool:
            with client.stream("GET", url, headers=hoarder) as again:
                return again.status_code == 200
        assert poll(reopened, timeout=30), "a closed stream frees its place"
    # The service holds the same caps for what reaches it directly.
    service = f"{stack.processes.url('alerting')}/api/v1/alerts/stream"
    machine = forwarded("stream-machine", ["supervision"])
    with httpx.Client(timeout=httpx.Timeout(10.0, read=None)) as client, ExitStack() as streams:
        assert all(opened(streams, client, service, machine).status_code == 200 for _ in range(cap))
        with client.stream("GET", service, headers=machine) as refused:
            assert refused.status_code == 429
