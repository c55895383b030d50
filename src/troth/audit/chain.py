"""The hash chain: how an entry's hash is computed, and the walk that checks a whole log.

Each entry's hash covers its own id and contents and the hash of the entry before it,
so changing, removing or reordering any row breaks the chain from that row on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

GENESIS = "0" * 64
"""The prev_hash of the first entry."""

FORMAT = "troth-audit-v1"


@dataclass(frozen=True)
class Link:
    """The hashed fields of one entry."""

    prev_hash: str
    id: int
    at: dt.datetime
    actor: str
    action: str
    purpose: str | None
    subject_id: str | None
    categories: str | None
    outcome: str
    reason: str


def canonical_time(at: dt.datetime) -> str:
    # SQLite hands stored times back without a zone; they are UTC.
    aware = at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)
    return aware.astimezone(dt.UTC).isoformat(timespec="microseconds")


def digest(link: Link) -> str:
    fields = [
        FORMAT,
        link.prev_hash,
        link.id,
        canonical_time(link.at),
        link.actor,
        link.action,
        link.purpose,
        link.subject_id,
        link.categories,
        link.outcome,
        link.reason,
    ]
    encoded = json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    count: int
    """Entries checked (all of them when the chain is intact)."""
    head_hash: str
    """The hash of the last good entry; GENESIS for an empty log."""
    broken_id: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None

    def summary(self) -> str:
        if self.problem is not None:
            return self.problem
        noun = "entry" if self.count == 1 else "entries"
        return f"{self.count} {noun}, chain intact"


def _missing(previous_id: int, entry_id: int) -> str:
    first, last = previous_id + 1, entry_id - 1
    if first == last:
        return f"entry {first} is missing or reordered"
    if first < last:
        return f"entries {first} to {last} are missing or reordered"
    return f"entry {previous_id} was altered, or entries are missing or reordered"


class ChainWalk:
    """Checks entries one at a time, in id order, keeping only the last one's id and hash."""

    def __init__(self) -> None:
        self._count = 0
        self._last_id: int | None = None
        self._last_hash = GENESIS
        self._broken: tuple[int, str] | None = None

    def step(self, link: Link, stored_hash: str) -> bool:
        """Check the next entry; False once the chain is broken."""
        problem = self._problem(link, stored_hash)
        if problem is not None:
            self._broken = (link.id, f"entry {link.id}: {problem}")
            return False
        self._count += 1
        self._last_id, self._last_hash = link.id, stored_hash
        return True

    def _problem(self, link: Link, stored_hash: str) -> str | None:
        if digest(link) != stored_hash:
            return "hash does not match its contents"
        if link.prev_hash == self._last_hash:
            return None
        if self._last_id is None:
            return "does not follow the start of the log (earlier entries are missing)"
        return f"does not follow entry {self._last_id} ({_missing(self._last_id, link.id)})"

    def report(self) -> ChainReport:
        if self._broken is None:
            return ChainReport(count=self._count, head_hash=self._last_hash)
        broken_id, problem = self._broken
        return ChainReport(
            count=self._count, head_hash=self._last_hash, broken_id=broken_id, problem=problem
        )
