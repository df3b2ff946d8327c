"""Supervision of the local stack, as a process manager would do it: a part that dies (a service, the broker,
PostgreSQL) is started again with a growing back-off, and every restart is said on the console.

The platform then catches up by itself: PostgreSQL keeps its data, the outbox publishes again what the broker
forgot, and consumers skip what they applied.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from deploy.local.processes import ServiceProcesses
from deploy.local.servers import EmbeddedBroker, EmbeddedPostgres

FIRST_BACKOFF = 0.5
LONGEST_BACKOFF = 30.0
# A part that stayed up this long is healthy again: its next crash is restarted at once.
STEADY_SECONDS = 60.0


@dataclass
class Part:
    """One supervised part: how to tell it lives and how to start it again."""

    name: str
    alive: Callable[[], bool]
    restart: Callable[[], None]
    restarts: int = 0
    backoff: float = FIRST_BACKOFF
    down_since: float | None = None
    up_since: float = field(default_factory=time.monotonic)


class Supervisor:
    """Checks its parts on every `check()` and starts again those that died, each after its back-off."""

    def __init__(self, parts: list[Part], say: Callable[[str], None] = print,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.parts = parts
        self.say = say
        self.clock = clock

    def check(self) -> None:
        for part in self.parts:
            self._check(part)

    def _check(self, part: Part) -> None:
        now = self.clock()
        if part.down_since is None:
            if part.alive():
                if now - part.up_since >= STEADY_SECONDS:
                    part.backoff = FIRST_BACKOFF
                return
            part.down_since = now
            self.say(f"{part.name} died; starting it again in {part.backoff:.1f}s")
        if now - part.down_since < part.backoff:
            return
        try:
            part.restart()
        except Exception as exc:  # noqa: BLE001 - say it and try again later, longer
            part.down_since = now
            part.backoff = min(part.backoff * 2, LONGEST_BACKOFF)
            self.say(f"{part.name} did not start ({exc}); next try in {part.backoff:.1f}s")
            return
        part.restarts += 1
        part.down_since = None
        part.up_since = now
        part.backoff = min(part.backoff * 2, LONGEST_BACKOFF)
        self.say(f"{part.name} started again (restart {part.restarts})")

    @property
    def restarts(self) -> dict[str, int]:
        return {part.name: part.restarts for part in self.parts}


def stack_parts(services: ServiceProcesses, broker: EmbeddedBroker | None, postgres: EmbeddedPostgres | None
                ) -> list[Part]:
    """What a local stack supervises: the embedded servers first (the services need them), then each service."""
    parts = []
    if postgres:
        parts.append(Part("postgresql", postgres.alive, postgres.restart))
    if broker:
        parts.append(Part("broker", broker.alive, broker.start))
    parts += [Part(name, lambda n=name: services.alive(n), lambda n=name: services.start(n)) for name in services.procs]
    return parts
