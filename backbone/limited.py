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

from backbone.errors import InvalidInput

T = TypeVar("T")


class FileBeyondLimits(InvalidInput):
    """A file whose reading took more memory or time than a file may."""


class InputBeyondLimits(Exception):
    """Raised in a worker by a reader that refuses what it will not allocate (a sheet that says it spans more
    cells than are read); the caller gets it as a FileBeyondLimits. Not a ValueError, so that the readers' own
    row-by-row fault handling passes it on."""


def beyond_limits(message: str) -> FileBeyondLimits:
    return FileBeyondLimits(f"{message}: the file is not read", errors=[{"field": "file", "message": message}])


def limit_memory(memory_bytes: int) -> None:
    """Cap this process's address space (in a worker, before it reads anything)."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))


async def run_limited(fn: Callable[..., T], *args: Any, memory_bytes: int, seconds: float) -> T:
    """`fn(*args)` in a spawned worker under the limits; FileBeyondLimits (422 on `file`) when it breaks them."""
    pool = concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                                  initializer=limit_memory, initargs=(memory_bytes,))
    try:
        return await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(pool, fn, *args), seconds)
    except (BrokenProcessPool, MemoryError):
        raise FileBeyondLimits(f"reading the file took more than {memory_bytes // 2**20} MiB: it is not read",
                               errors=[{"field": "file", "message": "beyond the memory a file may take"}]) from None
    except InputBeyondLimits as exc:
        raise beyond_limits(str(exc)) from None
    except TimeoutError:
        raise FileBeyondLimits(f"reading the file took more than {seconds:.0f} s: it is not read",
                               errors=[{"field": "file", "message": "beyond the time a file may take"}]) from None
    finally:
        # A worker still reading (the time ran out) is killed, not waited for.
        for process in list(getattr(pool, "_processes", {}).values()):
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)
