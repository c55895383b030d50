"""Settled days' visit columns: stored one row per day, kept in memory, built when missing.

A day is settled once no open visit starts on it or before (`SiteState.open_since`), so its
visits change only when an event arrives late or the day is recomputed; both call
`invalidate`, which raises the day's version and empties its block. A block is stored by
the day's job when it settles (`pair_days.py`: the day's waiting blocks joined, the same
visits its pair rollups are built from), or built from the day's events (the same replay as
the ingester's) the first time a filter needs it; it is written only if the version it was
built under is still the day's version.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from troth.analytics import scan, sessions
from troth.analytics.columns import VisitColumns, Vocabulary, decode, encode, readable
from troth.analytics.figures import Period
from troth.analytics.kept import Kept
from troth.analytics.models import DayColumns
from troth.analytics.repository import plain_rows
from troth.jobs.registry import registry

JOB_KIND = "analytics.build_columns"
BUDGET = 512 * 1024 * 1024
"""Bytes of columns kept per process (least recently used go first): 30 days at 10M events a
quarter hold about 1.5M visits, some 140 MB."""
READ = 8
"""Stored blocks read per query."""
Key = tuple[str, str, dt.date, int]
"""(database, site, day, version)."""
log = logging.getLogger(__name__)


_kept = Kept(BUDGET)
_vocabularies: dict[tuple[str, str], Vocabulary] = {}
_vocabulary_lock = threading.Lock()


def vocabulary(session: Session, site: str) -> Vocabulary:
    """The strings of one site's blocks in this process: every block kept is coded by it."""
    with _vocabulary_lock:
        return _vocabularies.setdefault((sessions.database_of(session), site), Vocabulary())


def forget() -> None:
    _kept.clear()
    with _vocabulary_lock:
        _vocabularies.clear()


def held() -> tuple[int, int]:
    """(blocks, bytes) this process keeps."""
    return _kept.held()


def blocks(
    session: Session, site: str, days: Sequence[dt.date], words: Vocabulary
) -> Iterator[VisitColumns]:
    """Each settled day's columns in turn, coded by `words`: from memory, from storage, or
    built from events. A few days are read at a time, so a year's view never holds every
    block at once beyond what memory keeps anyway."""
    if not days:
        return
    database, c = sessions.database_of(session), DayColumns
    stored = {
        day: (int(version), bool(ready))
        for day, version, ready in session.execute(
            select(c.day, c.version, c.data.is_not(None)).where(
                c.site == site, c.day >= min(days), c.day <= max(days)
            )
        )
    }

    def keep(day: dt.date, version: int, block: VisitColumns) -> VisitColumns:
        _kept.put((database, site, day, version), block, block.nbytes, words)
        return block

    for start in range(0, len(days), READ):
        chunk = days[start : start + READ]
        found: dict[dt.date, VisitColumns] = {}
        for day in chunk:
            block = _kept.get((database, site, day, stored.get(day, (0, False))[0]), words)
            if isinstance(block, VisitColumns):  # kept under this vocabulary, so coded by it
                found[day] = block
        to_read = [day for day in chunk if day not in found and stored.get(day, (0, False))[1]]
        for day, version, data in _read(session, site, to_read):
            if data is not None and readable(data):
                found[day] = keep(day, version, decode(day, data, words))
        for day in chunk:
            if day not in found:
                version = stored.get(day, (0, False))[0]
                data = encode(day, scan.load(session, site, Period(day, day)))
                _store(session, site, day, version, day in stored, data)
                found[day] = keep(day, version, decode(day, data, words))
            yield found[day]


def _read(
    session: Session, site: str, days: list[dt.date]
) -> Iterable[tuple[dt.date, int, bytes | None]]:
    if not days:
        return []
    c = DayColumns
    stmt = select(c.day, c.version, c.data).where(c.site == site, c.day.in_(days))
    return [(day, int(version), data) for day, version, data in plain_rows(session, stmt)]


def build(session: Session, site: str, days: Sequence[dt.date]) -> int:
    """Build and store the blocks these days lack (`troth analytics build-columns`); how many."""
    c = DayColumns
    ready = set(session.scalars(
        select(c.day).where(c.site == site, c.day.in_(list(days)), c.data.is_not(None))
    ))  # fmt: skip
    missing = [day for day in days if day not in ready]
    for _ in blocks(session, site, missing, vocabulary(session, site)):
        pass
    return len(missing)


def _job(session: Session, payload: dict[str, Any]) -> None:
    """Jobs queued before a day's job also built its pair rollups (`pair_days.JOB_KIND`)."""
    build(session, str(payload["site"]), [dt.date.fromisoformat(d) for d in payload["days"]])


registry.register(JOB_KIND, _job)


def store_block(session: Session, site: str, day: dt.date, version: int, data: bytes) -> None:
    """Store the day's block (encoded, built under `version`) if it has none: its job builds
    the block and the pair rollups from the same visits."""
    c = DayColumns
    row = session.execute(
        select(c.version, c.data.is_not(None)).where(c.site == site, c.day == day)
    ).first()
    if row is not None and bool(row[1]):
        return
    _store(session, site, day, version, row is not None, data)


def mark_built(session: Session, site: str, day: dt.date) -> None:
    """The day's rollups now hold all its final visits (its pair ones, and its unfiltered
    ones from the site's `unfiltered_from` on)."""
    stmt = _insert(session).values(site=site, day=day, version=1, data=None, pairs=True)
    session.execute(
        stmt.on_conflict_do_update(index_elements=["site", "day"], set_={"pairs": True})
    )


def invalidate(session: Session, site: str, days: Iterable[dt.date]) -> None:
    """These days changed: raise their version and drop their blocks (in the caller's
    transaction, with the change)."""
    c = DayColumns
    for day in sorted(set(days)):
        stmt = _insert(session).values(site=site, day=day, version=1, data=None)
        session.execute(stmt.on_conflict_do_update(
            index_elements=["site", "day"], set_={"version": c.version + 1, "data": None}
        ))  # fmt: skip


def _store(
    session: Session, site: str, day: dt.date, version: int, exists: bool, data: bytes
) -> None:
    """Write a block only under the version it was built from (a change since wins).

    On PostgreSQL in a short transaction of its own: the request's transaction may last, and
    an ingest batch renewing the day must not wait for it. A row busy in another transaction
    (or in this request's own) is left alone: the block is still used from memory, and the
    day's job stores it.
    """
    if session.get_bind().dialect.name != "postgresql":
        _write(session, site, day, version, exists, data)
        return
    try:
        with Session(session.get_bind()) as apart, apart.begin():
            apart.execute(text("SET LOCAL lock_timeout = '200ms'"))
            _write(apart, site, day, version, exists, data)
    except OperationalError:
        log.info("visit columns of %s not stored: the day's row is busy", day)


def _write(
    session: Session, site: str, day: dt.date, version: int, exists: bool, data: bytes
) -> None:
    c = DayColumns
    if exists:
        session.execute(
            update(c).where(c.site == site, c.day == day, c.version == version).values(data=data)
        )
    else:
        stmt = _insert(session).values(site=site, day=day, version=version, data=data)
        session.execute(stmt.on_conflict_do_nothing(index_elements=["site", "day"]))


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(DayColumns)
