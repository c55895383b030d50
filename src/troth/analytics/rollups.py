"""Keep rollups and sketches current as each ingest batch is stored, in its transaction.

A batch assigns its events to visits (`sessions.py`); the visits still open are not
counted anywhere yet. A visit that becomes final adds to the unfiltered sketches, and is
written, every few seconds with the watermark that says which visits are final: its
figures to the unfiltered counts (summed with numpy over the columns of the visits that
became final, one upsert per key), and the visit to its day's waiting blocks (`recent.py`)
or, when its day's pair rollups are built already (an event that came late), to those.
Counting a visit once, when it is final, costs a fraction of keeping every open visit's
figures current batch by batch ("figures after − figures before" for each visit touched).

A day's pair rollups are built once, when it settles (`pair_days.py`): about 70 pair rows
and sketches a visit are written once a day instead of with every watermark. Queries read
the visits after the watermark (`live_visits.py`) and add them in, so answers stay exact
meanwhile.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from troth.analytics import (
    column_days,
    columns,
    fanout,
    live_visits,
    pair_days,
    parts,
    recent,
    repository,
    sessions,
)
from troth.analytics.columns import Vocabulary
from troth.analytics.raw import as_raw
from troth.analytics.sketches import DayCache
from troth.analytics.visits import Counts, Key, Visit, utc

PENDING = "troth.analytics.batches"
PERSIST_SECONDS = 5.0
"""Final visits (counts, sketches, blocks) are written at most this often; until then,
queries read those visits raw."""
_caches: dict[str, DayCache] = {}


def before_insert(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    repository.lock_rollups(session)
    _forget_on_rollback(session)
    session.info.setdefault(PENDING, []).append(sessions.assign(session, rows))


def after_insert(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    batch: sessions.BatchVisits = session.info[PENDING].pop()
    for site, days in batch.late.items():
        repository.bump_revision(session, site)
        column_days.invalidate(session, site, days)
    for site in batch.behind - set(batch.late):  # moves the stamp: answers read again
        repository.bump_revision(session, site)
    cache = _caches.setdefault(sessions.database_of(session), DayCache())
    record_final(cache, batch)
    cache.watermarks.update(batch.watermarks)
    # A late visit is final at once, and before the stored watermark: it is written now, with
    # the batch that brought it, so neither its day's job nor a view misses it, and a restart
    # or a recompute before the next write cannot lose it (a rebuild starts at the watermark).
    # So is an event older than where views replay the open visits from.
    if batch.late or batch.behind or time.monotonic() - cache.persisted_at >= PERSIST_SECONDS:
        persist(session, cache)


def persist(session: Session, cache: DayCache) -> None:
    """Write newly final visits (unfiltered counts and sketches, and the blocks or pair rollups
    of their days) with the watermark they reach."""
    states = repository.states(session, list(cache.epochs))
    for site, state in states.items():  # a recompute since: what this process holds is stale
        cache.drop_epochs_except(site, state.epoch)
    for site, visits in cache.take_finals().items():
        settled = utc(states[site].open_since).date() if site in states else dt.date.min
        place_final(session, cache, site, visits, settled)
    repository.put_sketches(session, cache.take_touched())
    for site, held in cache.watermarks.items():
        flushed_before, open_since = held.watermark()
        pair_days.settle(session, site, open_since)
        repository.set_watermark(session, site, flushed_before, open_since)
    cache.watermarks.clear()
    cache.persisted_at = time.monotonic()
    cache.evict()


def persist_now(session: Session) -> None:
    """Write what is pending now (at shutdown, or before a benchmark reads): sketches, final
    visits, the watermark and the jobs of the days that settle."""
    cache = _caches.get(sessions.database_of(session))
    if cache is not None:
        repository.lock_rollups(session)
        persist(session, cache)


def record_final(cache: DayCache, batch: sessions.BatchVisits) -> None:
    """Keep each visit that became final for `persist`."""
    for site, epoch in batch.epochs.items():
        cache.drop_epochs_except(site, epoch)
    for site, visit in batch.final:
        cache.finals.setdefault((site, batch.epochs[site]), []).append(visit)


def place_final(
    session: Session, cache: DayCache, site: str, visits: list[Visit], settled: dt.date
) -> None:
    """Final visits go to the unfiltered counts and sketches, and to their day's waiting
    blocks, or to its pair rollups once built.

    A visit on a settled day (an event that came late) changes what views keep of that day:
    the site's revision goes up. Its day's job is queued again if the day waits for one.
    """
    by_day: dict[dt.date, list[Visit]] = defaultdict(list)
    for visit in visits:
        by_day[visit.day].append(visit)
    built = pair_days.built_days(session, site, list(by_day))
    counts: dict[Key, Counts] = {}
    for day, found in sorted(by_day.items()):
        words = Vocabulary()
        block = columns.from_visits(day, found, words)  # final: they change no more
        visitors = [v.visitor_key for v in found]
        fanned = fanout.unfiltered(block, visitors, words)
        counts |= fanned.counts
        epoch = cache.epochs[site]
        if not cache.has(site, epoch, day):  # its unfiltered sketches, read once
            cache.day(site, epoch, day, repository.day_sketches(session, site, day, ("", "")))
        cache.add(site, epoch, fanned)
        if day not in built:
            recent.add_block(session, site, block, words, visitors)
            if day < settled:
                pair_days.queue_day(session, site, day)
    repository.add_counts(session, site, counts)
    late = [as_raw(v) for day in sorted(built) for v in by_day[day]]
    if late:
        pair_days.add(session, site, late)
    if min(by_day, default=settled) < settled:
        repository.bump_revision(session, site)


def forget(database: str | None = None) -> None:
    """Drop what this process holds in memory (visits and sketches) for one or all databases."""
    sessions.forget(database)
    parts.forget()
    live_visits.forget()
    if database is None:
        column_days.forget()  # blocks are versioned in the database: a rollback leaves them
        recent.forget()
        _caches.clear()
    else:
        _caches.pop(database, None)


def _forget_on_rollback(session: Session) -> None:
    if session.info.get("troth.analytics.watched"):
        return
    session.info["troth.analytics.watched"] = True
    database = sessions.database_of(session)

    def rolled_back(_session: Session) -> None:
        if _session.info.pop(PENDING, None) is not None:
            forget(database)

    def committed(_session: Session) -> None:
        _session.info.pop(PENDING, None)

    event.listen(session, "after_rollback", rolled_back)
    event.listen(session, "after_commit", committed)
