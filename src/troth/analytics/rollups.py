"""Keep rollups and sketches current as each ingest batch is stored, in its transaction.

Unfiltered counts are kept current batch by batch. Each visit's figures are a function of
its state (`visits.contribution`), so a batch adds "figures after − figures before" for every
visit it touched: a second pageview takes a bounce away, duration grows by the new span, the
exit page moves from one row to another. The deltas of a batch are summed in Python first,
then written with one upsert per key.

Filtered counts (pair rollups) and sketches take a visit once, when it is final, and are
written every few seconds rather than per batch (a 10k-event batch touches tens of thousands
of pair keys): the watermark written with them says which visits they hold, and queries
read the visits after it from raw events, so answers stay exact meanwhile.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from troth.analytics import column_days, parts, repository, sessions
from troth.analytics.fanout import Final, fan_out
from troth.analytics.sketches import DayCache
from troth.analytics.visits import (
    Counts,
    Key,
    Visit,
    accumulate,
    as_counts,
    contribution,
    rows,
    slices,
)

PENDING = "troth.analytics.batches"
PERSIST_SECONDS = 5.0
"""Sketches are written at most this often; until then, queries read those visits raw."""
_caches: dict[str, DayCache] = {}


def before_insert(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    repository.lock_rollups(session)
    _forget_on_rollback(session)
    session.info.setdefault(PENDING, []).append(sessions.assign(session, rows))


def after_insert(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    batch: sessions.BatchVisits = session.info[PENDING].pop()
    for site, deltas in batch_deltas(batch.changes.values()).items():
        repository.add_counts(session, site, deltas)
    for site, days in batch.late.items():
        repository.bump_revision(session, site)
        column_days.invalidate(session, site, days)
    cache = _caches.setdefault(sessions.database_of(session), DayCache())
    record_final(session, cache, batch)
    cache.watermarks.update(batch.watermarks)
    if time.monotonic() - cache.persisted_at >= PERSIST_SECONDS:
        persist(session, cache)


def persist(session: Session, cache: DayCache) -> None:
    """Write the pair counts and sketches of newly final visits, with the watermark they reach."""
    for site, pairs in cache.take_pairs().items():
        repository.add_counts(session, site, pairs)
    repository.put_sketches(session, cache.take_touched())
    for site, (flushed_before, open_since) in cache.watermarks.items():
        column_days.settle(session, site, open_since)
        repository.set_watermark(session, site, flushed_before, open_since)
    cache.watermarks.clear()
    cache.persisted_at = time.monotonic()
    cache.evict()


def persist_now(session: Session) -> None:
    """Write pending sketches now (at shutdown, or before a benchmark reads)."""
    cache = _caches.get(sessions.database_of(session))
    if cache is not None:
        persist(session, cache)


def batch_deltas(changes: Iterable[sessions.Change]) -> dict[str, dict[Key, Counts]]:
    sums: dict[str, dict[Key, list[int]]] = defaultdict(dict)
    for change in changes:
        acc = sums[change.site]
        accumulate(acc, contribution(change.after).items())
        accumulate(acc, contribution(change.before).items(), -1)
    return {
        site: {key: as_counts(row) for key, row in acc.items() if any(row)}
        for site, acc in sums.items()
    }


def record_final(session: Session, cache: DayCache, batch: sessions.BatchVisits) -> None:
    """Count each visit that became final in its filtered slices and in every sketch."""
    for site, epoch in batch.epochs.items():
        cache.drop_epochs_except(site, epoch)
    by_site: dict[tuple[str, int], list[Final]] = defaultdict(list)
    for site, visit in batch.final:
        epoch = batch.epochs[site]
        if not cache.has(site, epoch, visit.day):
            cache.day(site, epoch, visit.day, repository.day_sketches(session, site, visit.day))
        by_site[(site, epoch)].append(final(visit))
    for (site, epoch), finals in by_site.items():
        for fanned in fan_out(finals):
            cache.add(site, epoch, fanned)


def final(visit: Visit) -> Final:
    return Final(visit.day, visit.visitor_key, list(rows(visit)), list(slices(visit)))


def forget(database: str | None = None) -> None:
    """Drop what this process holds in memory (visits and sketches) for one or all databases."""
    sessions.forget(database)
    parts.forget()
    if database is None:
        column_days.forget()  # blocks are versioned in the database: a rollback leaves them
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
