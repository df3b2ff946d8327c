"""Rate limits: a caller over its limit is told when to come back; others go on."""

import pytest

from backbone.errors import TooManyRequests
from backbone.settings import Settings
from gateway.ratelimit import RateLimits


async def test_a_flood_of_sign_ins_from_one_address_is_held_back_and_another_address_is_not():
    limits = RateLimits(Settings(_env_file=None, FUNDWATCH_RATE_LIMIT_SIGN_IN="3/minute"))  # type: ignore[call-arg]
    for _ in range(3):
        await limits.admit("sign-in:203.0.113.9", limits.sign_in)
    with pytest.raises(TooManyRequests) as refused:
        await limits.admit("sign-in:203.0.113.9", limits.sign_in)
    assert 1 <= int(refused.value.headers["Retry-After"]) <= 60
    await limits.admit("sign-in:198.51.100.4", limits.sign_in)

