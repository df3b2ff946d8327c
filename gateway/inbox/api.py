"""GET /api/v1/inbox (待办): what waits for the caller, with counts, in one answer. The services keep the things
waiting and answer within the caller's scope, asked with the caller's own forwarded identity; the gateway's own
applications and exports are read here."""

import asyncio
from typing import Any

import httpx
from fastapi import APIRouter, Request
from pydantic import Field
from sqlalchemy import select

from backbone.errors import InvalidInput, fault
from backbone.identity import Principal
from backbone.pages import MAX_LIMIT, Page, PagingDep, sorted_page
from backbone.service import Runtime, RuntimeDep
from gateway.applications.api import in_scope
from gateway.applications.projections import applications
from gateway.auth import Caller
from gateway.exports.projections import export_requests
from gateway.inbox.domain import InboxItem, InboxKind, Source, counted, items_of, sources_for
from gateway.routing import ask_as

router = APIRouter(prefix="/api/v1", tags=["inbox"])


class InboxPage(Page[InboxItem]):
    counts: dict[str, int] = Field(description="How many things wait, by kind: every kind the caller may take on.")


async def _ask(client: httpx.AsyncClient, runtime: Runtime, principal: Principal, service: str, source: Source
               ) -> list[dict[str, Any]]:
    """A service's list of what waits, as the caller may see it (one page of the largest size)."""
    answer = await ask_as(client, runtime.settings, principal, service, source.path,
                          {**source.params, "limit": MAX_LIMIT})
    return answer["items"]


async def _own(runtime: Runtime, principal: Principal, source: Source) -> list[dict[str, Any]]:
    """What waits in the gateway's own tables: applications to review, exports to co-sign."""
    if source.kind is InboxKind.PERMISSION_REVIEW:
        query = select(applications).where(applications.c.status == source.params["status"],
                                           *in_scope(principal))
        order = applications.c.submitted_at
    else:
        query = select(export_requests).where(export_requests.c.status == source.params["status"])
        order = export_requests.c.requested_at
    async with runtime.engine.connect() as conn:
        return [dict(r._mapping) for r in await conn.execute(query.order_by(order.desc()).limit(MAX_LIMIT))]


def _since(value: str) -> float:
    """A cursor's sort value: how long ago, as a negative instant (newest first)."""
    try:
        return float(value)
    except ValueError as exc:
        raise InvalidInput("the cursor is not valid", errors=[fault("cursor", "not valid")]) from exc


@router.get("/inbox", response_model=InboxPage)
async def get_inbox(principal: Caller, request: Request, runtime: RuntimeDep, asked: PagingDep) -> InboxPage:
    """What waits for me (待办): alerts I may act on now, goals to review, applications to review, exports and
    monthly reports awaiting my step, newest first, with counts by kind (at most 1,000 of each kind listed)."""
    sources = sources_for(principal)
    client: httpx.AsyncClient = request.app.state.http
    rows = await asyncio.gather(*(_ask(client, runtime, principal, s.service, s) if s.service else _own(runtime, principal, s)
                                  for s in sources))
    items = [item for source, found in zip(sources, rows, strict=True) for item in items_of(source.kind, found)]
    page, next_cursor = sorted_page(items, lambda i: (-i.at.timestamp(), f"{i.kind}:{i.id}"), asked, parse=_since)
    return InboxPage(items=page, next_cursor=next_cursor,
                     counts=counted(items, list(dict.fromkeys(s.kind for s in sources))))
