"""Visit assignment at ingest: one visitor's events less than 30 minutes apart share a visit.

Open visits live in memory per database and site. A visit whose last event is more than
30 minutes before the newest event of its site is final: it is handed over once to be
written (`rollups.py`) and forgotten. The site's state row in the database records that
watermark, so a fresh process rebuilds exactly the open visits from raw events (one query
on (site, ts)).
"""

from __future__ import annotations

import datetime as dt
import heapq
import operator
import os
import random
import secrets
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from troth.analytics import repository, sorted_batch
from troth.analytics.columns import Vocabulary, from_visits, unfiltered_counts
from troth.analytics.models import SiteState
from troth.analytics.raw import EARLIEST
from troth.analytics.sorted_batch import GAP, Assigned, FinalBlock
from troth.analytics.visits import Counts, Key, Order, Visit, as_dicts, replay, utc
from troth.collect.models import StoredEvent

LONGEST_VISIT = dt.timedelta(hours=24)
"""How far back a rebuild looks for the start of an open visit."""
LATE = dt.timedelta(minutes=10)
NEVER = dt.datetime.min.replace(tzinfo=dt.UTC)
SORTED_FROM = 64
SORTED_SPAN = GAP
"""A site's batch of at least `SORTED_FROM` events spanning at least `SORTED_SPAN` is assigned
by sorting it (`sorted_batch.py`); others event by event. In a batch that spans less than 30
minutes no visit can end before the watermark it brings (late ones aside), so sorting would
build nothing straight into columns; and in a small one numpy's cost per call would be most
of the work."""
_next_arrival = 1 << 40  # above any stored event id: later arrivals sort later
_arrival_lock = threading.Lock()


def _arrivals(count: int) -> int:
    """The first of `count` arrival numbers, the next ones after it being the batch's."""
    global _next_arrival
    with _arrival_lock:
        first, _next_arrival = _next_arrival, _next_arrival + count
    return first


COLUMNS = [getattr(StoredEvent, name) for name in (
    "id", "ts", "kind", "name", "path", "visitor_key", "visit_id", "referrer_host",
    "utm_source", "utm_medium", "utm_campaign", "browser", "os", "device", "language", "country",
)]  # fmt: skip


def new_visit_id() -> int:
    """A random id (63 bits, never 0): another process or an earlier run giving the same one
    is as unlikely as two random 63-bit numbers meeting."""
    return _ids.getrandbits(63) or 1


def _seed_ids() -> None:
    # Seeded once from the OS, not read from it per visit: that system call was a sixth of
    # the ingester's time. Reseeded in a forked child, so two processes never share a sequence.
    global _ids
    _ids = random.Random(secrets.randbits(128))


_ids: random.Random
_seed_ids()
os.register_at_fork(after_in_child=_seed_ids)


SECOND = dt.timedelta(seconds=1)


def _second(moment: dt.datetime) -> int:
    return (moment - EARLIEST) // SECOND


@dataclass
class SiteVisits:
    """One site's open visits, found by visitor, and by when they end.

    A batch costs its own events and the visits that become final, not a walk over every
    open visit: a busy site's ingester takes a small batch twice a second while it holds half
    an hour of visits. Where the open visits begin is looked up once per write instead."""

    epoch: int
    flushed_before: dt.datetime
    by_visitor: dict[str, list[Visit]] = field(default_factory=dict)
    settled_at: dt.datetime = NEVER
    """Days before this midnight hold no open visit in the stored state (see
    `SiteState.revision`)."""
    stored_before: dt.datetime = NEVER
    """The watermark as stored: a view reads a visit with an event at or after it from raw
    events, and takes the ones before it from what the ingester has written."""
    stored_since: dt.datetime = NEVER
    """`open_since` as stored: a view replays the open visits' events from this time on."""
    opened: list[Visit] = field(default_factory=list, repr=False)
    """Visits held since the last flush: it finalises those it can at once (in a large batch,
    most of them) and files the others in `by_second`."""
    by_second: dict[int, list[Visit]] = field(default_factory=dict, repr=False)
    """Each open visit that outlived a flush, filed under the second of its last event when it
    was filed (a visit only ends later: one found too early is filed again under its current
    last event). Seconds, not a heap of visits: filing and taking a visit compares no times
    down a heap, and a flush looks at the seconds it passes, not at every visit."""
    seconds: list[int] = field(default_factory=list, repr=False)
    """The keys of `by_second`, as a heap."""

    def find(self, key: str, ts: dt.datetime) -> Visit | None:
        visits = self.by_visitor.get(key)
        if visits:
            after, before = ts - GAP, ts + GAP  # within GAP of the visit's first or last event
            for visit in reversed(visits):
                if visit.first[0] < before and after < visit.last[0]:
                    return visit
        return None

    def add(self, row: Mapping[str, Any], order: Order) -> Visit:
        """Add the event to the visit it joins, opened when none fits; return that visit."""
        key = str(row["visitor_key"])
        visit = self.find(key, order[0])
        if visit is None:
            visit = Visit.open(new_visit_id(), row, order)
            self.keep(visit)
        visit.add(row, order)
        return visit

    def keep(self, visit: Visit) -> None:
        """Hold a visit as open."""
        self.by_visitor.setdefault(visit.visitor_key, []).append(visit)
        self.opened.append(visit)

    def open_visits(self) -> list[Visit]:
        return [visit for visits in self.by_visitor.values() for visit in visits]

    def open_since(self) -> dt.datetime:
        """Where the open visits begin, with room for events arriving a little late."""
        return min([self.flushed_before, *(v.first[0] for v in self.open_visits())]) - LATE

    def watermark(self) -> tuple[dt.datetime, dt.datetime]:
        """(flushed_before, open_since): what a write stores."""
        return self.flushed_before, self.open_since()

    def flush(self, newest: dt.datetime) -> list[Visit]:
        """Move the watermark up to `newest` − 30 min; return the visits that became final."""
        self.flushed_before = before = max(self.flushed_before, newest - GAP)
        done: list[Visit] = []
        for visit in self.opened:
            if visit.last[0] < before:
                done.append(visit)
            else:
                self._file(visit)
        self.opened.clear()
        # Every second up to the watermark's own: the visits of earlier ones are final unless
        # they went on since; of its own second, only those whose last event is before it.
        until, seconds, filed = _second(before), self.seconds, self.by_second
        going_on: list[Visit] = []
        while seconds and seconds[0] <= until:
            for visit in filed.pop(heapq.heappop(seconds)):
                (done if visit.last[0] < before else going_on).append(visit)
        for visit in going_on:  # filed after the walk: one may go back under `until`
            self._file(visit)
        for visit in done:
            others = self.by_visitor[visit.visitor_key]
            if len(others) == 1:
                del self.by_visitor[visit.visitor_key]
            else:
                others.pop(next(n for n, other in enumerate(others) if other is visit))
        return done

    def _file(self, visit: Visit) -> None:
        key = _second(visit.last[0])
        found = self.by_second.get(key)
        if found is None:
            self.by_second[key] = [visit]
            heapq.heappush(self.seconds, key)
        else:
            found.append(visit)


@dataclass
class BatchVisits:
    final: list[tuple[str, Visit]] = field(default_factory=list)
    blocks: list[tuple[str, FinalBlock]] = field(default_factory=list)
    """Visits final on arrival, as columns (`sorted_batch.py`)."""
    watermarks: dict[str, SiteVisits] = field(default_factory=dict)
    """Per site, the open visits after this batch: the next write stores their watermark."""
    epochs: dict[str, int] = field(default_factory=dict)
    late: dict[str, set[dt.date]] = field(default_factory=dict)
    """Per site, the settled days this batch changed (an event arrived late)."""
    behind: set[str] = field(default_factory=set)
    """Sites where an event came too late for what views read until the next write: a visit
    final on arrival, all of it before the stored watermark (found neither raw nor written),
    or an event before the stored `open_since` (left out of the open visits' replay)."""


_memory: dict[str, dict[str, SiteVisits]] = {}


def database_of(session: Session) -> str:
    return session.get_bind().engine.url.render_as_string(hide_password=True)


def forget(database: str | None = None) -> None:
    """Drop the in-memory visits (of one database, or all): they are rebuilt on next use."""
    if database is None:
        _memory.clear()
    else:
        _memory.pop(database, None)


def assign(session: Session, rows: Sequence[dict[str, Any]]) -> BatchVisits:
    """Fill `visit_id` in every row; report the visits now final."""
    by_site: dict[str, list[dict[str, Any]]] = {}
    names = set(map(_take_site, rows))
    if len(names) == 1:  # the usual batch: one site's events
        by_site[str(names.pop())] = list(rows)
    else:
        for row in rows:
            by_site.setdefault(str(row["site"]), []).append(row)
    sites = _sites(session, set(by_site))
    batch = BatchVisits()
    for site, found in by_site.items():
        known = sites[site]
        got = _assign_site(known, found)
        if got.late:
            batch.late[site] = got.late
        if got.earliest < known.stored_since or got.behind:
            batch.behind.add(site)
        done = known.flush(got.newest)
        if any(visit.last[0] < known.stored_before for visit in done):
            batch.behind.add(site)
        batch.final.extend((site, visit) for visit in done)
        batch.blocks.extend((site, block) for block in got.blocks)
        batch.watermarks[site] = known
        batch.epochs[site] = known.epoch
    return batch


_take_site, _take_ts = operator.itemgetter("site"), operator.itemgetter("ts")
_take_zone = operator.attrgetter("tzinfo")


def _assign_site(known: SiteVisits, rows: list[dict[str, Any]]) -> Assigned:
    """Give one site's events their visits: sorted when the batch is large and long (see
    `SORTED_FROM`), else in order."""
    stamps = list(map(_take_ts, rows))
    if set(map(_take_zone, stamps)) != {dt.UTC}:
        stamps = list(map(utc, stamps))
    first = _arrivals(len(rows))
    found = Assigned(max(stamps), min(stamps))
    if len(rows) >= SORTED_FROM and found.newest - found.earliest >= SORTED_SPAN:
        return sorted_batch.assign(known, rows, stamps, first, new_visit_id, found)
    add, settled_at = known.add, known.settled_at
    for n, (row, ts) in enumerate(zip(rows, stamps, strict=True)):
        visit = add(row, (ts, first + n))
        row["visit_id"] = visit.visit_id
        if visit.first[0] < settled_at:  # it started before the settled day
            found.late.add(visit.day)
    return found


def _sites(session: Session, names: Iterable[str]) -> dict[str, SiteVisits]:
    memory = _memory.setdefault(database_of(session), {})
    s = SiteState
    rows = session.execute(
        select(s.site, s.epoch, s.flushed_before, s.open_since, s.open_counted).where(
            s.site.in_(list(names))
        )
    ).all()
    stored = {row.site: (row.epoch, utc(row.flushed_before)) for row in rows}
    since = {row.site: utc(row.open_since) for row in rows}
    settled = {site: _midnight(moment) for site, moment in since.items()}
    counted = {row.site for row in rows if row.open_counted}
    for name in names:
        known = memory.get(name)
        if name not in stored:
            memory[name] = _start_site(session, name)
        elif known is None or known.epoch != stored[name][0] or name in counted:
            memory[name] = rebuild(session, name, *stored[name])
        if name in counted:
            _uncount_open(session, name, memory[name])
        memory[name].settled_at = settled.get(name, NEVER)
        memory[name].stored_before = stored[name][1] if name in stored else NEVER
        memory[name].stored_since = since.get(name, NEVER)
    return {name: memory[name] for name in names}


def _midnight(moment: dt.datetime) -> dt.datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _uncount_open(session: Session, site: str, state: SiteVisits) -> None:
    """Take the open visits out of counts stored by a version that counted them batch by
    batch (`SiteState.open_counted`): they are counted once, when they become final."""
    by_day: dict[dt.date, list[Visit]] = {}
    for visit in state.open_visits():
        by_day.setdefault(visit.day, []).append(visit)
    counts: dict[Key, Counts] = {}
    for day, found in by_day.items():
        words = Vocabulary()
        block = from_visits(day, found, words)
        for key, (a, b, c, d, e) in unfiltered_counts(block, words).items():
            counts[key] = (-a, -b, -c, -d, -e)
    repository.add_counts(session, site, counts)
    session.execute(update(SiteState).where(SiteState.site == site).values(open_counted=False))


def _start_site(session: Session, site: str) -> SiteVisits:
    epoch, before = new_visit_id(), EARLIEST
    session.add(SiteState(site=site, epoch=epoch, flushed_before=before, open_since=before))
    session.flush()
    return SiteVisits(epoch, before)


def rebuild(session: Session, site: str, epoch: int, flushed_before: dt.datetime) -> SiteVisits:
    """The open visits (an event at or after the watermark) replayed from raw events."""
    state = SiteVisits(epoch, flushed_before)
    for visit in open_visits(session, site, flushed_before, flushed_before - LONGEST_VISIT):
        state.keep(visit)
    return state


def open_visits(
    session: Session, site: str, since: dt.datetime, start: dt.datetime,
    end: dt.datetime | None = None,
) -> list[Visit]:  # fmt: skip
    """Visits with an event at or after `since`, replayed from their events from `start` on."""
    e = StoredEvent
    open_ids = select(e.visit_id).where(e.site == site, e.ts >= since).scalar_subquery()
    stmt = select(*COLUMNS).where(e.site == site, e.ts >= start, e.visit_id.in_(open_ids))
    if end is not None:
        stmt = stmt.where(e.ts < end)
    return replay(as_dicts(session.execute(stmt.order_by(e.id))))
