"""The one wait of the suite: poll a condition until it holds or the time is up."""

import asyncio

import pytest

from tests.support.waiting import poll


def test_poll_returns_the_first_truthy_value():
    calls = iter([None, 0, "here"])
    assert poll(lambda: next(calls), interval=0) == "here"


def test_poll_returns_the_last_falsy_value_when_the_time_is_up():
    assert poll(lambda: [], timeout=0, interval=0) == []


def test_an_async_condition_outside_a_coroutine_is_refused():
    async def never() -> bool:
        return False

    with pytest.raises(TypeError, match="await poll"):
        poll(never)


async def test_in_a_coroutine_poll_awaits_and_leaves_the_loop_free():
    done = asyncio.Event()
    asyncio.get_running_loop().call_soon(done.set)  # runs only while poll yields the loop

    async def flag() -> bool:
        return done.is_set()

    assert await poll(flag, interval=0) is True
    assert await poll(done.is_set, interval=0) is True
