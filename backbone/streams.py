"""Caps on open Server-Sent Event streams, per person and in all, in one process: a stream stays open for hours,
so a few callers could otherwise hold every connection and starve everyone else's requests."""

from collections import Counter

from backbone.errors import TooManyRequests
from backbone.metrics import OPEN_STREAMS

# When a refused caller should try again: streams end when their people leave, not in a second.
RETRY_AFTER = 30


class StreamSlot:
    """One admitted stream's place. Released once, however many ways its stream ends."""

    def __init__(self, slots: "StreamSlots", who: str) -> None:
        self._slots = slots
        self._who = who
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._slots.give_back(self._who)

    def __enter__(self) -> "StreamSlot":
        return self

    def __exit__(self, *_: object) -> None:
        self.release()


class StreamSlots:
    """Open streams of one process. `claim` refuses (429) a stream past the person's cap or the total, and
    counts it at once: the stream's status goes out before its first event, and a caller opening streams one
    after another must meet the cap on the request past it, not a few requests later."""

    def __init__(self, *, per_person: int, total: int, service: str) -> None:
        self.per_person = per_person
        self.total = total
        self.service = service
        self.open: Counter[str] = Counter()

    def claim(self, who: str) -> StreamSlot:
        if self.open[who] >= self.per_person:
            raise TooManyRequests(f"{who} has {self.open[who]} alert streams open already, at most "
                                  f"{self.per_person}: close one first", retry_after=RETRY_AFTER)
        if sum(self.open.values()) >= self.total:
            raise TooManyRequests(f"{self.total} alert streams are open, as many as this server keeps",
                                  retry_after=RETRY_AFTER)
        self.open[who] += 1
        OPEN_STREAMS.labels(self.service).inc()
        return StreamSlot(self, who)

    def give_back(self, who: str) -> None:
        self.open[who] -= 1
        if not self.open[who]:
            del self.open[who]
        OPEN_STREAMS.labels(self.service).dec()
