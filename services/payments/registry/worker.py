"""Reading a registry file in a worker process, as events ready to store.

Checking, indexing and encrypting a million rows and validating and serialising their events is
a core's worth of Python; in a worker process it runs beside the service's own work of writing
the parts already read (and PostgreSQL's of storing them), instead of taking turns with it
under one interpreter lock.
"""

import asyncio
import multiprocessing
import queue
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import structlog

from backbone.eventstore import PreparedEvent
from backbone.limited import InputBeyondLimits, LimitBroken, beyond_limits, file_broke, limit_memory
from backbone.pii import PersonalData
from contracts.registry import RECORDED, RegistrySource
from contracts.values import Registry
from services.payments.registry.domain import ImportTally, read_registry_file

log = structlog.get_logger(__name__)
AHEAD = 4  # groups read ahead of the writer: bounds the memory a fast reader can take
# One part read: its event, and the vault rows (blind index, ciphertext) of its people.
ReadPart = tuple[PreparedEvent, list[tuple[str, str]]]


class RegistryReading:
    """A file read in a worker process, group by group; `outcome` once all is read."""

    def __init__(self, data: bytes, filename: str, registry: Registry, import_id: str, personal: PersonalData,
                 today: date, group_size: int, memory_bytes: int) -> None:
        context = multiprocessing.get_context("spawn")  # never fork a process that runs threads
        self._out: Any = context.Queue(maxsize=AHEAD)
        self._worker = context.Process(
            target=_read, daemon=True, name="registry-reader",
            args=(self._out, data, filename, registry, import_id, personal.keys, personal.current,
                  personal.index_key, today, group_size, memory_bytes))
        self._tally: ImportTally | None = None
        self._memory_mb = memory_bytes // 2**20
        self._import_id = import_id

    @property
    def outcome(self) -> ImportTally:
        """Rows, accepted, rejected and faults of the whole file."""
        if self._tally is None:
            raise RuntimeError("the file has not been read to its end")
        return self._tally

    async def groups(self) -> AsyncIterator[list[ReadPart]]:
        self._worker.start()
        try:
            while True:
                kind, value = await asyncio.to_thread(self._next)
                if kind == "parts":
                    yield value
                elif kind == "done":
                    self._tally = value
                    return
                elif kind == "died":
                    # Out of memory (a workbook that names a cell far away makes its reader allocate up to it).
                    log.warning("registry.reader_died", import_id=self._import_id, reason=value)
                    raise file_broke(LimitBroken("memory", self._memory_mb))
                elif kind == "beyond":
                    raise beyond_limits(value)
                else:
                    raise RuntimeError(f"reading the registry file failed: {value}")
        finally:
            if self._worker.is_alive():
                self._worker.terminate()
            self._worker.join(timeout=5)

    def _next(self) -> tuple[str, Any]:
        while True:
            try:
                return self._out.get(timeout=1)
            except queue.Empty:
                if not self._worker.is_alive():
                    return "died", f"exit code {self._worker.exitcode}"


def _read(out: Any, data: bytes, filename: str, registry: Registry, import_id: str, keys: dict[str, bytes],
          current: str, index_key: bytes, today: date, group_size: int, memory_bytes: int) -> None:
    limit_memory(memory_bytes)
    try:
        tally = ImportTally()
        group: list[ReadPart] = []
        parts = read_registry_file(data, filename, registry, PersonalData(keys, current, index_key), today, tally)
        for number, part in enumerate(parts, start=1):
            event = RECORDED[registry](source=RegistrySource(kind="import", id=import_id, part=number),
                                       persons=part.entries)
            group.append((PreparedEvent.of(event), part.vault))
            if len(group) == group_size:
                out.put(("parts", group))
                group = []
        if group:
            out.put(("parts", group))
        out.put(("done", tally))
    except MemoryError:
        out.put(("died", "out of memory"))
    except InputBeyondLimits as exc:
        out.put(("beyond", str(exc)))
    except Exception as exc:  # noqa: BLE001 - reported to the request, which fails with it
        out.put(("failed", f"{type(exc).__name__}: {exc}"))
