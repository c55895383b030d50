"""Keep rollups and sketches current as each ingest batch is stored, in its transaction.

Sketches are written every few seconds rather than per batch (a 10k-event batch touches
tens of thousands of sketches): the watermark written with them says which visits they hold,
and queries read the visits after it from raw events, so answers stay exact meanwhile.

Each visit's figures are a function of its state (`visits.contribution`), so a batch adds
"figures after − figures before" for every visit it touched: a second pageview takes a bounce
away, duration grows by the new span, the exit page moves from one row to another. The deltas
of a batch are summed in Python first, then written with one upsert per key.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from troth.analytics import repository, sessions
from troth.analytics.sketches import DayCache
from troth.analytics.visits import Counts, Key, Visit, contribution

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
    cache = _caches.setdefault(sessions.database_of(session), DayCache())
    record_final(session, cache, batch)
    cache.watermarks.update(batch.watermarks)
    if time.monotonic() - cache.persisted_at >= PERSIST_SECONDS:
        persist(session, cache)


def persist(session: Session, cache: DayCache) -> None:
    """Write the sketches changed since the last write, with the watermark they reach."""
    repository.put_sketches(session, cache.take_touched())
    for site, watermark in cache.watermarks.items():
        repository.set_watermark(session, site, *watermark)
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
        _accumulate(acc, contribution(change.after), 1)
        _accumulate(acc, contribution(change.before), -1)
    return {
        site: {key: (a, b, c, d, e) for key, (a, b, c, d, e) in acc.items() if any(acc[key])}
        for site, acc in sums.items()
    }


def _accumulate(acc: dict[Key, list[int]], figures: dict[Key, Counts], sign: int) -> None:
    for key, counts in figures.items():
        row = acc.get(key)
        if row is None:
            acc[key] = [sign * n for n in counts]
        else:
            for i, n in enumerate(counts):
                row[i] += sign * n


def record_final(session: Session, cache: DayCache, batch: sessions.BatchVisits) -> None:
    """Add the visitors of visits that became final to every sketch their figures touch."""
    for site, visit in batch.final:
        epoch = batch.epochs[site]
        _drop_other_epochs(cache, site, epoch)
        if not cache.has(site, epoch, visit.day):
            cache.day(site, epoch, visit.day, repository.day_sketches(session, site, visit.day))
        add_visit(cache, site, epoch, visit)


def add_visit(cache: DayCache, site: str, epoch: int, visit: Visit) -> None:
    for day, fdim, fvalue, dim, value in contribution(visit):
        cache.add(site, epoch, day, (fdim, fvalue, dim, value), visit.visitor_key)


def _drop_other_epochs(cache: DayCache, site: str, epoch: int) -> None:
    """Sketches of an earlier epoch (the site's analytics were reset) are never written."""
    for key in [k for k in cache.days if k[0] == site and k[1] != epoch]:
        cache.drop(key)


def forget(database: str | None = None) -> None:
    """Drop what this process holds in memory (visits and sketches) for one or all databases."""
    sessions.forget(database)
    if database is None:
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
