"""Settled days' visit columns: stored one row per day, kept in memory, built when missing.

A day is settled once no open visit starts on it or before (`SiteState.open_since`), so its
visits change only when an event arrives late or the day is recomputed; both call
`invalidate`, which raises the day's version and empties its block. A block is built from
the day's events (the same replay as the ingester's) the first time a filter needs it, and
written only if the version it was built under is still the day's version.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from troth.analytics import scan, sessions
from troth.analytics.columns import VisitColumns, Vocabulary, decode, encode, from_visits
from troth.analytics.figures import Period
from troth.analytics.models import DayColumns, SiteState
from troth.analytics.raw import RawVisit
from troth.analytics.visits import utc
from troth.jobs import queue
from troth.jobs.registry import registry

JOB_KIND = "analytics.build_columns"
AHEAD = 31
"""Days built ahead of need when they settle: a month's view finds them ready."""
BUDGET = 512 * 1024 * 1024
"""Bytes of columns kept per process (least recently used go first): 30 days at 10M events a
quarter hold about 1.5M visits, some 140 MB."""
RUN = 4
"""Missing days replayed from events in one read (each read is widened by a day each side)."""
Key = tuple[str, str, dt.date, int]
"""(database, site, day, version)."""


class _Kept:
    def __init__(self) -> None:
        self._items: OrderedDict[Key, VisitColumns] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Key) -> VisitColumns | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: Key, block: VisitColumns) -> None:
        with self._lock:
            old = self._items.pop(key, None)
            self._bytes += block.nbytes - (old.nbytes if old is not None else 0)
            self._items[key] = block
            while len(self._items) > 1 and self._bytes > BUDGET:
                _, freed = self._items.popitem(last=False)
                self._bytes -= freed.nbytes

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def held(self) -> tuple[int, int]:
        with self._lock:
            return len(self._items), self._bytes


_kept = _Kept()
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


def settled(session: Session, site: str, days: Sequence[dt.date]) -> list[VisitColumns]:
    """The columns of each of these settled days, from memory, from storage or from events."""
    if not days:
        return []
    database, words = sessions.database_of(session), vocabulary(session, site)
    c = DayColumns
    stored = {
        day: (int(version), bool(ready))
        for day, version, ready in session.execute(
            select(c.day, c.version, c.data.is_not(None)).where(
                c.site == site, c.day >= min(days), c.day <= max(days)
            )
        )
    }
    found: dict[dt.date, VisitColumns] = {}
    to_read: list[dt.date] = []
    to_build: list[dt.date] = []
    for day in days:
        version, ready = stored.get(day, (0, False))
        block = _kept.get((database, site, day, version))
        if block is not None:
            found[day] = block
        else:
            (to_read if ready else to_build).append(day)
    if to_read:
        rows = session.execute(
            select(c.day, c.version, c.data).where(c.site == site, c.day.in_(to_read))
        )
        for day, version, data in rows:
            if data is not None:
                found[day] = decode(day, data, words)
                _kept.put((database, site, day, int(version)), found[day])
    missing = [day for day in days if day not in found]
    for day, visits in _replay(session, site, missing):
        version, exists = stored.get(day, (0, False))[0], day in stored
        _store(session, site, day, version, exists, encode(day, visits))
        found[day] = from_visits(day, visits, words)
        _kept.put((database, site, day, version), found[day])
    return [found[day] for day in days]


def build(session: Session, site: str, days: Sequence[dt.date]) -> int:
    """Build and store the blocks these days lack (the job run as days settle); how many."""
    c = DayColumns
    ready = set(session.scalars(
        select(c.day).where(c.site == site, c.day.in_(list(days)), c.data.is_not(None))
    ))  # fmt: skip
    missing = [day for day in days if day not in ready]
    settled(session, site, missing)
    return len(missing)


def settle(session: Session, site: str, open_since: dt.datetime) -> None:
    """Queue the blocks of the days that settle as the site's open visits move on to
    `open_since` (call before the new value is written)."""
    before = session.scalar(select(SiteState.open_since).where(SiteState.site == site))
    if before is None or utc(open_since).date() <= utc(before).date():
        return
    first, last = utc(before).date(), utc(open_since).date()
    days = [first + dt.timedelta(days=n) for n in range((last - first).days)][-AHEAD:]
    for day in days:  # a job a day: each holds SQLite's write lock for one day's build only
        queue.enqueue(session, JOB_KIND, {"site": site, "days": [day.isoformat()]})


def _job(session: Session, payload: dict[str, Any]) -> None:
    build(session, str(payload["site"]), [dt.date.fromisoformat(d) for d in payload["days"]])


registry.register(JOB_KIND, _job)


def invalidate(session: Session, site: str, days: Iterable[dt.date]) -> None:
    """These days changed: raise their version and drop their blocks (in the caller's
    transaction, with the change)."""
    c = DayColumns
    for day in sorted(set(days)):
        stmt = _insert(session).values(site=site, day=day, version=1, data=None)
        session.execute(stmt.on_conflict_do_update(
            index_elements=["site", "day"], set_={"version": c.version + 1, "data": None}
        ))  # fmt: skip


def _replay(
    session: Session, site: str, days: list[dt.date]
) -> Iterable[tuple[dt.date, list[RawVisit]]]:
    """Each day's visits, from events read a run of consecutive days at a time."""
    for run in _runs(days):
        by_day: dict[dt.date, list[RawVisit]] = defaultdict(list)
        for visit in scan.load(session, site, Period(run[0], run[-1])):
            by_day[visit.day].append(visit)
        for day in run:
            yield day, by_day.get(day, [])


def _runs(days: list[dt.date]) -> list[list[dt.date]]:
    runs: list[list[dt.date]] = []
    for day in sorted(days):
        if runs and day - runs[-1][-1] == dt.timedelta(days=1) and len(runs[-1]) < RUN:
            runs[-1].append(day)
        else:
            runs.append([day])
    return runs


def _store(
    session: Session, site: str, day: dt.date, version: int, exists: bool, data: bytes
) -> None:
    """Write a block only under the version it was built from (a change since wins)."""
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
