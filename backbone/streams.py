"""Caps on open Server-Sent Event streams, per person and in all, in one process: a stream stays open for hours,
so a few callers could otherwise hold every connection and starve everyone else's requests."""

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from backbone.errors import TooManyRequests
from backbone.metrics import OPEN_STREAMS

# When a refused caller should try again: streams end when their people leave, not in a second.
RETRY_AFTER = 30


class StreamSlots:
    """Open streams of one process. `admit` refuses (429) a stream past the person's cap or the total; it is
    asked before the answer starts, since a stream's status is sent before its first event. `held` counts a
    stream while it flows."""

    def __init__(self, *, per_person: int, total: int, service: str) -> None:
        self.per_person = per_person
        self.total = total
        self.service = service
        self.open: Counter[str] = Counter()

    def admit(self, who: str) -> None:
        if self.open[who] >= self.per_person:
            raise TooManyRequests(f"{who} has {self.open[who]} alert streams open already, at most "
                                  f"{self.per_person}: close one first", retry_after=RETRY_AFTER)
        if sum(self.open.values()) >= self.total:
            raise TooManyRequests(f"{self.total} alert streams are open, as many as this server keeps",
                                  retry_after=RETRY_AFTER)

    @contextmanager
    def held(self, who: str) -> Iterator[None]:
        self.open[who] += 1
        OPEN_STREAMS.labels(self.service).inc()
        try:
            yield
        finally:
            self.open[who] -= 1
            if not self.open[who]:
                del self.open[who]
            OPEN_STREAMS.labels(self.service).dec()
