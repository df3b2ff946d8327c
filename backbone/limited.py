"""Untrusted files are read in a worker process with a memory and a time limit: a 5 KB workbook can name a
cell at XFD1048576, and the reader then allocates the whole rectangle up to it. In a worker that is the
worker's death (a 422 to the caller), never the service's."""

import asyncio
import concurrent.futures
import multiprocessing
import resource
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from backbone.errors import InvalidInput, fault

T = TypeVar("T")


class FileBeyondLimits(InvalidInput):
    """A file whose reading took more memory or time than a file may."""


class InputBeyondLimits(Exception):
    """Raised in a worker by a reader that refuses what it will not allocate (a sheet that says it spans more
    cells than are read); the caller gets it as a FileBeyondLimits. Not a ValueError, so that the readers' own
    row-by-row fault handling passes it on."""


def beyond_limits(message: str) -> FileBeyondLimits:
    return FileBeyondLimits(f"{message}: the file is not read", errors=[fault("file", message)])


def file_broke(broken: "LimitBroken") -> FileBeyondLimits:
    """A file whose reading broke its worker's memory or time limit, as the caller hears of it (422 on `file`)."""
    return FileBeyondLimits(f"reading the file took {broken}: it is not read", errors=[
        fault("file", f"beyond the {broken.what} a file may take")])


def limit_memory(memory_bytes: int) -> None:
    """Cap this process's address space (in a worker, before it reads anything)."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))


class LimitBroken(Exception):
    """A worker's work took more memory (`what` "memory", `limit` in MiB) or time ("time", seconds) than it may."""

    def __init__(self, what: str, limit: float) -> None:
        super().__init__(f"more {what} than {limit:.0f} {'MiB' if what == 'memory' else 's'}")
        self.what = what
        self.limit = limit


class LimitedWorker:
    """A spawned worker process under a memory limit, for one or several calls within one deadline; killed,
    not waited for, when the deadline passes or the work is done. Untrusted work (a file, a rule's expressions)
    runs there, so that breaking a limit is the worker's death and never the service's."""

    def __init__(self, *, memory_bytes: int, seconds: float) -> None:
        self.memory_bytes = memory_bytes
        self.seconds = seconds
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._deadline = 0.0

    async def __aenter__(self) -> "LimitedWorker":
        self._pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=limit_memory,
            initargs=(self.memory_bytes,))
        self._deadline = asyncio.get_running_loop().time() + self.seconds
        return self

    async def __aexit__(self, *_: object) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            for process in list(getattr(pool, "_processes", {}).values()):
                process.kill()
            pool.shutdown(wait=False, cancel_futures=True)

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in the worker; LimitBroken when it runs out of memory or past the deadline."""
        loop = asyncio.get_running_loop()
        try:
            return await asyncio.wait_for(loop.run_in_executor(self._pool, fn, *args), self._deadline - loop.time())
        except (BrokenProcessPool, MemoryError):
            raise LimitBroken("memory", self.memory_bytes / 2**20) from None
        except TimeoutError:
            raise LimitBroken("time", self.seconds) from None


async def run_limited(fn: Callable[..., T], *args: Any, memory_bytes: int, seconds: float) -> T:
    """`fn(*args)`, reading a file, in a worker under the limits; FileBeyondLimits (422 on `file`) when it breaks
    them."""
    try:
        async with LimitedWorker(memory_bytes=memory_bytes, seconds=seconds) as worker:
            return await worker.call(fn, *args)
    except LimitBroken as exc:
        raise file_broke(exc) from None
    except InputBeyondLimits as exc:
        raise beyond_limits(str(exc)) from None
