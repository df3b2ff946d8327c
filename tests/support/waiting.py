"""Waiting for a condition: the one way a test waits for something to happen, instead of sleeping."""

import asyncio
import inspect
import time


def poll(fn, timeout: float = 30.0, interval: float = 0.2):
    """Call fn until it returns something truthy, or until `timeout` s have passed; return its last value
    (truthy if and only if the condition came true in time, so `assert poll(...)` fails on a timeout).

    In a coroutine (an event loop runs in this thread) poll must not block the loop the awaited work runs on:
    there it returns an awaitable, `await poll(fn)`, and fn may be a plain or an async function."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _poll(fn, timeout, interval)
    return _poll_in_loop(fn, timeout, interval)


def _poll(fn, timeout: float, interval: float):
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if inspect.isawaitable(value):
            if inspect.iscoroutine(value):
                value.close()
            raise TypeError("an async condition is polled in a coroutine: `await poll(...)`")
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


async def _poll_in_loop(fn, timeout: float, interval: float):
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if inspect.isawaitable(value):
            value = await value
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(interval)
