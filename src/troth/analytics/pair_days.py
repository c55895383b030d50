"""A settled day's rollups and their sketches, built once from its waiting blocks.

While a day moves, its final visits wait as blocks (`recent.py`): the ingester writes one
block a watermark instead of touching some 80 rows and sketches per visit (its unfiltered
ones and its pair ones), and views read the blocks. When the day settles, its job joins the
day's blocks into one, writes every unfiltered and pair row and sketch of the day from it
(`fanout.py`), deletes the blocks and marks the day built, all in one transaction, so a
reader sees the visits in one place or the other. The same joined block
is stored as the day's visit columns (apart on PostgreSQL: they are versioned, see
`column_days.py`). No event is read: the visits were replayed once, at ingest (but for the
days `build_day` names). A visit that becomes final on a built day (an event that arrived
late) goes to its rows directly. Days before `SiteState.unfiltered_from` (an upgrade) had
their unfiltered rows written with each watermark: their job writes the pair rows only.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from troth.analytics import column_days, fanout, recent, repository, scan, sketches
from troth.analytics.columns import VisitColumns, Vocabulary, encode, encode_block
from troth.analytics.columns import from_visits as columns_of
from troth.analytics.fanout import Fanned, SubKey, fan_out
from troth.analytics.figures import Period
from troth.analytics.models import DayColumns, RecentVisits, Rollup, SiteState, Sketch
from troth.analytics.raw import RawVisit, day_start
from troth.analytics.sketches import DaySketches
from troth.analytics.visits import Counts, Key, utc
from troth.jobs import queue
from troth.jobs.registry import registry

JOB_KIND = "analytics.settle_day"
FAR = dt.datetime.max.replace(tzinfo=dt.UTC)
log = logging.getLogger(__name__)


def settle(session: Session, site: str, open_since: dt.datetime) -> None:
    """Queue a job for each day that settles as the site's open visits move on to
    `open_since` and holds final visits waiting for it (call before the new value is
    written). A job a day: on SQLite each holds the write lock for one day only."""
    before = session.scalar(select(SiteState.open_since).where(SiteState.site == site))
    if before is None or utc(open_since).date() <= utc(before).date():
        return
    r = RecentVisits
    first, settled = utc(before).date(), utc(open_since).date()
    days = session.scalars(
        select(r.day).distinct().where(r.site == site, r.day >= first, r.day < settled)
    )
    for day in sorted(days):  # a later visit on a settled day queues its day again itself
        queue_day(session, site, day)


def queue_day(session: Session, site: str, day: dt.date) -> None:
    queue.enqueue(session, JOB_KIND, {"site": site, "day": day.isoformat()})


def _job(session: Session, payload: dict[str, Any]) -> None:
    build_day(session, str(payload["site"]), dt.date.fromisoformat(str(payload["day"])))


registry.register(JOB_KIND, _job)


def build_day(session: Session, site: str, day: dt.date) -> bool:
    """Build the day's rollups (unfiltered ones too, from the site's `unfiltered_from` on)
    and visit columns unless it has them; whether it built them. Both come from the day's
    waiting blocks, which hold its final visits already replayed at ingest. A day is replayed
    from its events only when it has no waiting block (no visit of it was placed through the
    ingest hooks), or was moving when this version was installed (its earlier visits are in
    pair rows, not in blocks: they are replaced)."""
    repository.lock_rollups(session)
    version, built = _flag(session, site, day)
    if built:
        return False
    state = repository.state(session, site)
    since = state.blocks_since if state is not None else None
    upgraded = since is not None and day_start(day) < utc(since)
    unfiltered = repository.unfiltered_by_job(state, day)
    words = Vocabulary()
    found = None if upgraded else recent.day_block(session, site, day, words)
    if found is not None:
        block, visitors = found
        column_days.store_block(session, site, day, version, encode_block(block, words))
        if unfiltered and _has_unfiltered(session, site, day):
            _drop_unfiltered(session, site, day)
        add_block(session, site, block, visitors, words, fresh=True, unfiltered=unfiltered)
    else:
        visits = scan.load(session, site, Period(day, day))
        column_days.store_block(session, site, day, version, encode(day, visits))
        final_before = utc(state.flushed_before) if state is not None else FAR
        final = [v for v in visits if v.last < final_before]
        if upgraded:
            write(session, site, day, final)
        else:
            add(session, site, final, fresh=True, unfiltered=unfiltered)
    recent.forget_day(session, site, day)
    column_days.mark_built(session, site, day)
    repository.bump_revision(session, site)  # dashboards holding this day read it again
    return True


def write(session: Session, site: str, day: dt.date, visits: Sequence[RawVisit]) -> None:
    """Replace the day's pair rows and pair sketches with those of these (final) visits.

    Deleting reads every row of the site (the tables are keyed by slice before day), about
    0.8 s a table at 1M events on PostgreSQL: only a day built from its events needs it.
    """
    for table in (Rollup, Sketch):
        session.execute(delete(table).where(
            table.site == site, table.day == day, table.filter_dim != ""
        ))  # fmt: skip
    add(session, site, visits, fresh=True)


def _has_unfiltered(session: Session, site: str, day: dt.date) -> bool:
    """Whether the day has its unfiltered totals row (any visit of it writes one)."""
    r = Rollup
    stmt = select(r.visits).where(
        r.site == site, r.filter_dim == "", r.filter_value == "", r.dimension == "",
        r.day == day, r.value == "",
    )  # fmt: skip
    return session.scalar(stmt) is not None


def _drop_unfiltered(session: Session, site: str, day: dt.date) -> None:
    """A day whose unfiltered rows should wait for this job has some: a process of an older
    version wrote them with its watermarks, during an upgrade. Its blocks hold those visits
    too, so the day's rows are written again from the blocks alone."""
    log.warning("analytics: %s %s had unfiltered rows before its job: written again", site, day)
    for table in (Rollup, Sketch):
        session.execute(delete(table).where(
            table.site == site, table.day == day, table.filter_dim == ""
        ))  # fmt: skip


def add(
    session: Session, site: str, visits: Sequence[RawVisit], fresh: bool = False,
    unfiltered: bool = False,
) -> None:  # fmt: skip
    """Add final visits to the pair rows and pair sketches of their days (`fresh`: the days
    have none yet; `unfiltered`: to their unfiltered rows and sketches too)."""
    by_day: dict[dt.date, list[RawVisit]] = defaultdict(list)
    for visit in visits:
        by_day[visit.day].append(visit)
    for day, found in sorted(by_day.items()):
        words = Vocabulary()
        block = columns_of(day, found, words)
        visitors = [v.visitor_key for v in found]
        add_block(session, site, block, visitors, words, fresh=fresh, unfiltered=unfiltered)


def add_block(
    session: Session, site: str, block: VisitColumns, visitors: Sequence[str],
    words: Vocabulary, *, fresh: bool = False, unfiltered: bool = False, pairs: bool = True,
) -> None:  # fmt: skip
    """Add one day's final visits, as columns, to its pair rows and sketches (`pairs`) and
    to its unfiltered ones (`unfiltered`). `fresh`: the day has none yet, so each key's
    sketch is built, written out and let go at once (a day at 10M events a quarter has some
    290k); else the sketches these visits touch are read first (only those) and updated."""
    counts: dict[Key, Counts] = {}
    fanned = _fanned(block, visitors, words, unfiltered, pairs)
    if fresh:
        written: list[tuple[str, dt.date, SubKey, bytes]] = []
        for found in fanned:  # keys differ from one pass to the next
            counts.update(found.counts)
            written += [
                (site, day, sub, sketches.of(sub[2], who)) for day, sub, who in found.visitors
            ]
        repository.add_counts(session, site, counts, fresh=True)
        repository.put_sketches(session, written, fresh=True)
        return
    updates = list(fanned)
    wanted = {sub for found in updates for _, sub, _ in found.visitors}
    cache = DaySketches(
        site, block.day, repository.some_sketches(session, site, block.day, wanted)
    )
    for found in updates:
        counts.update(found.counts)
        cache.add(found)
    repository.add_counts(session, site, counts)
    repository.put_sketches(session, cache.take_touched())


def _fanned(
    block: VisitColumns, visitors: Sequence[str], words: Vocabulary, unfiltered: bool,
    pairs: bool,
) -> Iterator[Fanned]:  # fmt: skip
    if unfiltered:
        yield fanout.unfiltered(block, visitors, words)
    if pairs:
        yield from fan_out(block, visitors, words)


def built_days(session: Session, site: str, days: Sequence[dt.date]) -> set[dt.date]:
    c = DayColumns
    stmt = select(c.day).where(c.site == site, c.day.in_(list(days)), c.pairs.is_(True))
    return set(session.scalars(stmt))


def _flag(session: Session, site: str, day: dt.date) -> tuple[int, bool]:
    c = DayColumns
    row = session.execute(select(c.version, c.pairs).where(c.site == site, c.day == day)).first()
    return (0, False) if row is None else (int(row[0]), bool(row[1]))
