"""Fetching a co-signed export from its service as the requester, carrying the grant."""

import httpx

from backbone.identity import (API_PREFIX, IDENTITY_HEADER, ExportGrant, Principal, audience_of,
                               issue_internal_token)
from backbone.settings import Settings
from gateway.routing import service_for

# What of the service's answer reaches the requester: the file and its name.
PASSED_HEADERS = ("content-type", "content-disposition")


async def fetch_export(client: httpx.AsyncClient, settings: Settings, requester: Principal, grant: ExportGrant,
                       params: dict[str, str | int | bool]) -> httpx.Response:
    """The service's answer to the export route, opened as a stream; the service applies the requester's scope."""
    service = service_for(grant.path)
    identity = issue_internal_token(requester.model_copy(update={"export": grant}),
                                    settings.identity_private_key.get_secret_value(), audience_of(service))
    outgoing = client.build_request(
        "GET", f"{settings.service_url(service)}{API_PREFIX}{grant.path}", params=params,
        headers={IDENTITY_HEADER: identity})
    return await client.send(outgoing, stream=True)


def passed_headers(upstream: httpx.Response) -> dict[str, str]:
    return {name: upstream.headers[name] for name in PASSED_HEADERS if name in upstream.headers}
