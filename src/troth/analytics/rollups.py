"""Keep rollups and sketches current as each ingest batch is stored, in its transaction.

A batch assigns its events to visits (`sessions.py`); the visits still open are not
counted anywhere yet. Every few seconds the watermark that says which visits are final is
written, and with it the visits that became final: as one block per day (`recent.py`)
that waits for its day's job, or, when their day's rollups are built already (an event
that came late), added to those. Counting a visit once, when it is final, costs a fraction
of keeping every open visit's figures current batch by batch.

A day's rollups, unfiltered and pair ones, are built once, when it settles
(`pair_days.py`): some 80 rows and sketches a visit are written once a day instead of being
upserted with every watermark (today's unfiltered sketches alone are tens of kilobytes,
re-serialised each time). Queries add the waiting blocks (`recent_part.py`) and the visits
after the watermark (`live_visits.py`), so answers stay exact meanwhile.
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
    live_visits,
    pair_days,
    parts,
    recent,
    repository,
    sessions,
)
from troth.analytics.columns import Vocabulary
from troth.analytics.models import SiteState
from troth.analytics.pending import Pending
from troth.analytics.sorted_batch import FinalBlock
from troth.analytics.visits import Visit, utc

PENDING = "troth.analytics.batches"
PERSIST_SECONDS = 5.0
"""Final visits are written at most this often; until then, queries read those visits raw."""
_pending: dict[str, Pending] = {}


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
    pending = _pending.setdefault(sessions.database_of(session), Pending())
    record_final(pending, batch)
    pending.watermarks.update(batch.watermarks)
    # A late visit is final at once, and before the stored watermark: it is written now, with
    # the batch that brought it, so neither its day's job nor a view misses it, and a restart
    # or a recompute before the next write cannot lose it (a rebuild starts at the watermark).
    # So is an event older than where views replay the open visits from.
    if batch.late or batch.behind or time.monotonic() - pending.persisted_at >= PERSIST_SECONDS:
        persist(session, pending)


def persist(session: Session, pending: Pending) -> None:
    """Write newly final visits (to their days' blocks, or rollups once built) with the
    watermark they reach."""
    states = repository.states(session, list(pending.epochs))
    for site, stored in states.items():  # a recompute since: what this process holds is stale
        pending.drop_epochs_except(site, stored.epoch)
    for site, (visits, blocks) in pending.take_finals().items():
        state = states.get(site)
        settled = utc(state.open_since).date() if state is not None else dt.date.min
        place_final(session, site, state, visits, settled, blocks)
    for site, held in pending.watermarks.items():
        flushed_before, open_since = held.watermark()
        pair_days.settle(session, site, open_since)
        repository.set_watermark(session, site, flushed_before, open_since)
    pending.watermarks.clear()
    pending.persisted_at = time.monotonic()


def persist_now(session: Session) -> None:
    """Write what is pending now (at shutdown, or before a benchmark reads): final visits,
    the watermark and the jobs of the days that settle."""
    pending = _pending.get(sessions.database_of(session))
    if pending is not None:
        repository.lock_rollups(session)
        persist(session, pending)


def record_final(pending: Pending, batch: sessions.BatchVisits) -> None:
    """Keep each visit that became final for `persist`."""
    for site, epoch in batch.epochs.items():
        pending.drop_epochs_except(site, epoch)
    for site, visit in batch.final:
        pending.finals.setdefault((site, batch.epochs[site]), []).append(visit)
    for site, block in batch.blocks:
        pending.blocks.setdefault((site, batch.epochs[site]), []).append(block)


def place_final(
    session: Session, site: str, state: SiteState | None, visits: list[Visit], settled: dt.date,
    blocks: Sequence[FinalBlock] = (),
) -> None:  # fmt: skip
    """Final visits wait in their day's blocks for its job, or go to its rollups once it is
    built (an event that came late), unfiltered and pair ones alike.

    A visit on a settled day (an event that came late) changes what views keep of that day:
    the site's revision goes up. Its day's job is queued again if the day waits for one.
    Days before the site's `unfiltered_from` (an upgrade) still take their unfiltered rows
    from each watermark.
    """
    by_day: dict[dt.date, list[Visit]] = defaultdict(list)
    for visit in visits:
        by_day[visit.day].append(visit)
    ready: dict[dt.date, list[FinalBlock]] = defaultdict(list)
    for final in blocks:
        ready[final.columns.day].append(final)
        by_day.setdefault(final.columns.day, [])
    built = pair_days.built_days(session, site, list(by_day))
    for day, found in sorted(by_day.items()):
        words = Vocabulary()
        block = columns.from_visits(day, found, words)  # final: they change no more
        visitors = [v.visitor_key for v in found]
        if ready[day]:
            block = columns.concat([block, *(columns.recoded(f.columns, f.words.strings, words)
                                             for f in ready[day])])  # fmt: skip
            visitors += [key for f in ready[day] for key in f.visitors]
        if day in built:
            pair_days.add_block(session, site, block, visitors, words, unfiltered=True)
            continue
        if not repository.unfiltered_by_job(state, day):
            pair_days.add_block(session, site, block, visitors, words, unfiltered=True,
                                pairs=False)  # fmt: skip
        recent.add_block(session, site, block, words, visitors)
        if day < settled:
            pair_days.queue_day(session, site, day)
    if min(by_day, default=settled) < settled:
        repository.bump_revision(session, site)


def forget(database: str | None = None) -> None:
    """Drop what this process holds in memory (visits, pending writes, what views keep) for
    one or all databases."""
    sessions.forget(database)
    parts.forget()
    live_visits.forget()
    if database is None:
        column_days.forget()  # blocks are versioned in the database: a rollback leaves them
        recent.forget()
        _pending.clear()
    else:
        _pending.pop(database, None)


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
