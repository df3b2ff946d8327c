"""The hash chain of the audit trail (审计日志), pure: how an entry is hashed and how a sequence of
stored entries is verified.

Each entry stores the hash of the one before it (`prev_hash`; the first chains from 64 zeros) and
its own `hash = sha256(prev_hash || canonical JSON of its fields)`. Altering a field breaks the
entry's own hash; removing, inserting or reordering entries breaks the link of the entry after.
"""

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from backbone.workdays import SHANGHAI

GENESIS = "0" * 64
# What the trail keeps at least (第二十八条; 等级保护 2.0: six months); entries may be pruned only past it, and
# only by `python -m gateway.audit prune`, which leaves its own entry naming the last one it removed.
RETENTION = timedelta(days=180)
PRUNED = "audit.pruned"
_PRUNE_TARGET = re.compile(r"^through entry (\d+) at (\S+), hash ([0-9a-f]{64})$")
# The fields an entry's hash covers, i.e. every stored column but the two hashes.
FIELDS = ("seq", "at", "actor", "org_unit", "client_ip", "action", "target", "outcome", "trace_id", "event_id")


@dataclass(frozen=True)
class AuditEntry:
    """Something worth answering for later: who did what, to what, from where, with what outcome."""

    at: datetime
    actor: str
    org_unit: str | None
    client_ip: str | None
    action: str
    target: str
    outcome: str
    trace_id: str | None
    event_id: UUID | None = None


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("audit times are timezone-aware")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"no canonical form for {type(value).__name__}")


def canonical(fields: Mapping[str, Any]) -> bytes:
    """The fields as canonical JSON: sorted keys, no spaces, UTF-8, instants in UTC to the microsecond."""
    return json.dumps({k: fields[k] for k in FIELDS}, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=_plain).encode()


def entry_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical(fields)).hexdigest()


def link(entries: Sequence[AuditEntry], *, last_seq: int, last_hash: str) -> list[dict[str, Any]]:
    """The rows that append `entries` after the entry numbered `last_seq` whose hash is `last_hash`."""
    rows = []
    for seq, entry in enumerate(entries, start=last_seq + 1):
        fields = {"seq": seq, **asdict(entry)}
        row_hash = entry_hash(last_hash, fields)
        rows.append({**fields, "prev_hash": last_hash, "hash": row_hash})
        last_hash = row_hash
    return rows


def prune_target(seq: int, at: datetime, entry_hash: str) -> str:
    """The target of a prune's own entry: the last entry removed, its time and its hash (the `prev_hash` of
    the first entry kept)."""
    return f"through entry {seq} at {at.astimezone(UTC).isoformat()}, hash {entry_hash}"


def _prune_of(row: Mapping[str, Any]) -> tuple[int, str] | None:
    """The (last removed entry, its hash) a prune entry stands for, if it removed only entries past retention."""
    found = _PRUNE_TARGET.match(row["target"] or "") if row["action"] == PRUNED else None
    if found is None or row["at"] - datetime.fromisoformat(found[2]) < RETENTION:
        return None
    return int(found[1]), found[3]


@dataclass(frozen=True)
class Break:
    """The first entry that does not hold: its own content, or its link to the entry before it."""

    seq: int
    at: datetime
    action: str
    problem: Literal["content", "link", "pruned"]

    def describe(self) -> str:
        why = {"content": "its content does not match its hash (a field was altered)",
               "link": "it does not follow the hash of the entry before it (an entry was removed, inserted or moved)",
               "pruned": "the entries before it are gone, and no prune of entries past the retention period "
                         "removed them"}[self.problem]
        return f"{self.at.astimezone(SHANGHAI).isoformat()} {self.action}: {why}"


@dataclass(frozen=True)
class Verdict:
    """What verification found: how many entries hold, and the first that does not."""

    entries: int
    # The hash of the last entry that holds. The chain alone cannot show that entries were cut off its
    # end or that it was rewritten whole; a head noted elsewhere (a report, a ticket) can.
    head: str = GENESIS
    first: int | None = None
    broken: Break | None = None

    @property
    def intact(self) -> bool:
        return self.broken is None

    def message(self) -> str:
        if self.broken is not None:
            return f"audit chain broken at entry {self.broken.seq} ({self.broken.describe()})"
        pruned = f" (from entry {self.first}; the entries before it were pruned)" if (self.first or 1) > 1 else ""
        return f"audit chain intact: {self.entries} entries{pruned}"


class ChainCheck:
    """Verifies stored entries fed in order, chunk by chunk, so that a long trail is never held whole.

    The first entry must chain from 64 zeros, unless entries past the retention period were pruned: then
    the trail starts at its first kept entry, says so, and holds only if a prune's own entry further on
    names exactly the entry before it (removed rows with no such record are a break at the first kept one).
    """

    def __init__(self) -> None:
        self.last_hash: str | None = None
        self.first: int | None = None
        self.entries = 0
        self.broken: Break | None = None
        self._start: Mapping[str, Any] | None = None
        self._prune_recorded = False

    def feed(self, rows: Iterable[Mapping[str, Any]]) -> bool:
        """Check the next rows; False once a broken entry is found (the rows after it prove nothing)."""
        if self.broken is not None:
            return False
        for row in rows:
            if self.last_hash is None:
                self.first = row["seq"]
                self.last_hash = GENESIS if row["seq"] == 1 else row["prev_hash"]
                self._start = row
            fault = _fault(row, self.last_hash)
            if fault is not None:
                self.broken = Break(seq=row["seq"], at=row["at"], action=row["action"], problem=fault)
                return False
            if self.first != 1 and _prune_of(row) == (self.first - 1, self._start["prev_hash"]):
                self._prune_recorded = True
            self.last_hash = row["hash"]
            self.entries += 1
        return True

    def verdict(self) -> Verdict:
        broken = self.broken
        if broken is None and self._start is not None and self.first != 1 and not self._prune_recorded:
            broken = Break(seq=self._start["seq"], at=self._start["at"], action=self._start["action"],
                           problem="pruned")
        return Verdict(entries=self.entries, head=self.last_hash or GENESIS, first=self.first, broken=broken)


def _fault(row: Mapping[str, Any], last_hash: str) -> Literal["content", "link"] | None:
    if entry_hash(row["prev_hash"], row) != row["hash"]:
        return "content"
    if row["prev_hash"] != last_hash:
        return "link"
    return None


def verify_chain(rows: Iterable[Mapping[str, Any]]) -> Verdict:
    """Recompute each entry's hash and check each link, naming the first entry that does not hold."""
    check = ChainCheck()
    check.feed(rows)
    return check.verdict()
