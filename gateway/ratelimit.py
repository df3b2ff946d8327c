"""Rate limits per principal at the gateway (429 with Retry-After), from the `limits` library.

Counts live in the gateway process (a sliding window per caller): with N gateway replicas behind a
load balancer a caller gets up to N times the limit, which still stops a runaway client or script.
A shared count would need Redis (`limits` supports it through a storage URL).
"""

import math
import time

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from backbone.errors import TooManyRequests
from backbone.access import MACHINES
from backbone.identity import Principal
from backbone.settings import Settings


class RateLimits:
    """The limit of each caller: a machine key's own, else the person or machine default."""

    def __init__(self, settings: Settings) -> None:
        self._limiter = SlidingWindowCounterRateLimiter(MemoryStorage())
        self._person = parse(settings.rate_limit_person)
        self._machine = parse(settings.rate_limit_machine)
        self.sign_in = parse(settings.rate_limit_sign_in)
        self.sign_in_address = parse(settings.rate_limit_sign_in_address)
        self._parsed: dict[str, RateLimitItem] = {}

    def limit_of(self, principal: Principal, own: str | None = None) -> RateLimitItem:
        if own:
            if own not in self._parsed:
                self._parsed[own] = parse(own)
            return self._parsed[own]
        return self._machine if principal.has_any(*MACHINES) else self._person

    async def admit(self, key: str, limit: RateLimitItem) -> None:
        """Count one request of `key`; TooManyRequests, saying when to come back, when over the limit."""
        if await self._limiter.hit(limit, key):
            return
        stats = await self._limiter.get_window_stats(limit, key)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise TooManyRequests(f"more than {limit} requests; try again in {retry_after} s", retry_after=retry_after)
