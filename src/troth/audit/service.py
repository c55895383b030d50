"""Recording to the audit log, checking its chain, and reading its latest entries."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from troth.audit import repository
from troth.audit.chain import GENESIS, ChainReport, ChainWalk, Link, digest
from troth.audit.models import AuditEntry
from troth.audit.personal import personal_kind
from troth.errors import BadRequest

CATEGORY_ID = re.compile(r"^[a-z][a-z0-9_]*$")
LIMITS = {"actor": 128, "action": 128, "purpose": 64, "subject_id": 64}
VERIFY_BATCH = 5000
LINK_FIELDS = tuple(field.name for field in fields(Link))


class Outcome(StrEnum):
    allowed = "allowed"
    denied = "denied"


@dataclass(frozen=True)
class Entry:
    """One entry to append with record_many: the same fields as record's arguments."""

    actor: str
    action: str
    outcome: Outcome | str
    reason: str
    purpose: str | None = None
    subject_id: str | int | None = None
    categories: tuple[str, ...] = ()


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    outcome: Outcome | str,
    reason: str,
    purpose: str | None = None,
    subject_id: str | int | None = None,
    categories: Iterable[str] = (),
) -> AuditEntry:
    """Append one entry to the chain (flushed, not committed).

    Raises ValueError when a field holds a personal value or is malformed: the log
    keeps ids and category names only.
    """
    wanted = Entry(actor, action, outcome, reason, purpose, subject_id, tuple(categories))
    entry = AuditEntry(**_columns(wanted, dt.datetime.now(dt.UTC)), hash="")
    repository.lock_for_append(session)
    last = repository.head(session)
    entry.prev_hash = last.hash if last is not None else GENESIS
    repository.add(session, entry)
    entry.hash = digest(link_of(entry))
    session.flush()
    return entry


def record_many(session: Session, entries: Sequence[Entry]) -> list[int]:
    """Append these entries to the chain, in order and all stamped with the time of the
    call, with one lock, one read of the chain's head and one insert; returns their ids.
    Not committed.

    Every entry is checked before any is written: one ValueError (as in record) and none is.
    """
    at = dt.datetime.now(dt.UTC)
    rows = [_columns(entry, at) for entry in entries]
    if not rows:
        return []
    repository.lock_for_append(session)
    last = repository.head(session)
    prev_hash = last.hash if last is not None else GENESIS
    ids = repository.next_ids(session, len(rows), last.id if last is not None else 0)
    for entry_id, row in zip(ids, rows, strict=True):
        row.update(id=entry_id, prev_hash=prev_hash)
        row["hash"] = prev_hash = digest(Link(**{name: row[name] for name in LINK_FIELDS}))
    repository.add_many(session, rows)
    return ids


def _columns(entry: Entry, at: dt.datetime) -> dict[str, Any]:
    """The entry's stored columns, checked; ValueError naming the field that is refused."""
    columns: dict[str, Any] = {
        "at": at,
        "actor": entry.actor,
        "action": entry.action,
        "purpose": entry.purpose,
        "subject_id": None if entry.subject_id is None else str(entry.subject_id),
        "categories": _joined(tuple(entry.categories)),
        "outcome": Outcome(entry.outcome).value,
        "reason": entry.reason,
    }
    _refuse_personal_values(columns)
    return columns


@lru_cache(maxsize=1024)
def _joined(categories: tuple[str, ...]) -> str | None:
    unique = sorted(set(categories))
    for category in unique:
        kind = personal_kind(category)
        if kind is not None:
            raise ValueError(f"audit categories: holds {kind}; record category names only")
        if not CATEGORY_ID.match(category):
            raise ValueError(f"audit categories: {category!r} is not a category id")
    return ",".join(unique) or None


def _refuse_personal_values(columns: dict[str, Any]) -> None:
    for name in ("actor", "action", "purpose", "subject_id", "categories", "reason"):
        value: str | None = columns[name]
        if value is not None:
            _check(name, value)


@lru_cache(maxsize=4096)
def _check(name: str, value: str) -> None:
    """Raise ValueError if the value may not be logged. Cached because a batch of entries
    repeats the same actor, action, purpose and reason; a refused value raises, so it is
    never cached."""
    if not value:
        raise ValueError(f"audit {name}: must not be empty")
    if len(value) > LIMITS.get(name, 4000):
        raise ValueError(f"audit {name}: longer than {LIMITS.get(name, 4000)} characters")
    kind = personal_kind(value)
    if kind is not None:
        raise ValueError(f"audit {name}: holds {kind}; record ids and category names only")


def link_of(entry: AuditEntry) -> Link:
    return Link(
        prev_hash=entry.prev_hash,
        id=entry.id,
        at=entry.at,
        actor=entry.actor,
        action=entry.action,
        purpose=entry.purpose,
        subject_id=entry.subject_id,
        categories=entry.categories,
        outcome=entry.outcome,
        reason=entry.reason,
    )


def verify(sessions: sessionmaker[Session], batch_size: int = VERIFY_BATCH) -> ChainReport:
    """Walk the whole chain in id order, one short read per batch, and report the first break."""
    walk = ChainWalk()
    after = 0
    while True:
        with sessions() as session:
            batch = repository.links_after(session, after, batch_size)
        for link, stored_hash in batch:
            if not walk.step(link, stored_hash):
                return walk.report()
        if len(batch) < batch_size:
            return walk.report()
        after = batch[-1][0].id


def recent(session: Session, count: int = 20) -> Sequence[AuditEntry]:
    """The last `count` entries, oldest first."""
    if count < 1:
        raise BadRequest("the number of entries must be at least 1")
    return repository.recent(session, count)
