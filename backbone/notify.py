"""Wake-ups from PostgreSQL NOTIFY: one LISTEN connection per process, many waiters."""

import asyncio
import contextlib

import asyncpg

import structlog

from backbone.db import connect_raw

log = structlog.get_logger(__name__)


class Notifier:
    """Fans a NOTIFY channel out to waiters; a lost connection is re-established."""

    def __init__(self, database_url: str, channel: str) -> None:
        self._url = database_url
        self._channel = channel
        self._waiters: set[asyncio.Event] = set()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name=f"notify:{self._channel}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def subscribe(self) -> asyncio.Event:
        event = asyncio.Event()
        self._waiters.add(event)
        return event

    def unsubscribe(self, event: asyncio.Event) -> None:
        self._waiters.discard(event)

    def _wake(self, *_: object) -> None:
        for event in self._waiters:
            event.set()

    async def _listen(self) -> None:
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await connect_raw(self._url)
                await conn.add_listener(self._channel, self._wake)
                # Waiters may have missed a NOTIFY while we were disconnected.
                self._wake()
                while not conn.is_closed():
                    await asyncio.sleep(5)
                    await conn.execute("select 1")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure means reconnect
                log.warning("notify.reconnect", channel=self._channel, error=str(exc))
                await asyncio.sleep(1)
            finally:
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await conn.close()
