"""Asking the ledger about an indicator performance has not heard of yet (read-your-writes): an indicator
registered a moment ago is in the ledger at once, and reaches performance's read model through Kafka later.

The question goes with the caller's own identity, which the gateway signs for the ledger too on the routes that
ask (`ASKS_ONWARD` in gateway/routing.py): the ledger answers within the caller's scope, and no service holds a
key to sign an identity of its own."""

from dataclasses import dataclass
from urllib.parse import quote

import httpx
import structlog

from backbone.identity import API_PREFIX, IDENTITY_HEADER
from backbone.settings import Settings

log = structlog.get_logger(__name__)
TIMEOUT = httpx.Timeout(5.0, connect=2.0)


@dataclass(frozen=True)
class LedgerIndicator:
    """What a goal needs of an indicator: its year and who answers for it."""

    indicator_id: str
    fiscal_year: int
    org_unit: str
    owner_division: str


async def ask_ledger(settings: Settings, identity: str | None, indicator_id: str) -> LedgerIndicator | None:
    """The indicator as the ledger has it for this caller; None when the ledger does not know it, does not show
    it to the caller, or cannot be asked."""
    if not identity:
        return None
    url = f"{settings.service_url('ledger')}{API_PREFIX}/indicators/{quote(indicator_id, safe='')}"
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT) as client:
            answer = await client.get(url, headers={IDENTITY_HEADER: identity})
    except httpx.HTTPError as exc:
        log.warning("ledger_lookup.failed", indicator_id=indicator_id, error=type(exc).__name__)
        return None
    if answer.status_code != 200:
        return None
    found = answer.json()
    return LedgerIndicator(indicator_id=found["id"], fiscal_year=found["fiscal_year"], org_unit=found["org_unit"],
                           owner_division=found["owner_division"])
