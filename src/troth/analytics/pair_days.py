"""A settled day's pair rollups and their sketches, built once from its events.

While a day moves, its final visits wait as blocks (`recent.py`): the ingester writes one
block a watermark instead of touching some 70 pair rows and sketches per visit. When the
day settles, its job replays the day's events once, writes every pair row and sketch of the
day, deletes its blocks and marks the day built, all in one transaction, so a reader sees
the visits in one place or the other (the day's visit columns, built from the same replay,
are stored apart on PostgreSQL: they are versioned, see `column_days.py`). A visit that
becomes final on a built day (an event that arrived late) goes to its pair rows directly.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from troth.analytics import column_days, raw, recent, repository, scan
from troth.analytics.fanout import Fanned, Final, SubKey, fan_out
from troth.analytics.figures import Period
from troth.analytics.models import DayColumns, RecentVisits, Rollup, SiteState, Sketch
from troth.analytics.raw import RawVisit, day_start
from troth.analytics.sketches import DayCache
from troth.analytics.visits import Key, accumulate, as_counts, utc
from troth.jobs import queue
from troth.jobs.registry import registry

FAR = dt.datetime.max.replace(tzinfo=dt.UTC)
JOB_KIND = "analytics.settle_day"


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
    """Build the day's pair rollups unless it has them; whether it built them.

    The events are replayed before the rollups' lock is taken, so ingest waits only for the
    writes; if the day changed meanwhile (its version went up) they are replayed again.
    """
    before = _flag(session, site, day)
    if before[1]:
        return False
    visits = scan.load(session, site, Period(day, day))
    repository.lock_rollups(session)
    now = _flag(session, site, day)
    if now[1]:
        return False
    if now[0] != before[0]:
        visits = scan.load(session, site, Period(day, day))
    state = repository.state(session, site)
    final_before = utc(state.flushed_before) if state is not None else FAR
    column_days.store_block(session, site, day, now[0], visits)
    # An unbuilt day has pair rows only if it was moving when this version was installed.
    since = state.blocks_since if state is not None else None
    clear = since is not None and day_start(day) < utc(since)
    write(session, site, day, [v for v in visits if v.last < final_before], clear)
    recent.forget_day(session, site, day)
    column_days.mark_built(session, site, day)
    repository.bump_revision(session, site)  # dashboards holding this day read it again
    return True


def write(
    session: Session, site: str, day: dt.date, visits: Sequence[RawVisit], clear: bool = True
) -> None:
    """Replace the day's pair rows and pair sketches with those of these (final) visits.

    `clear=False`: the day has none to replace. Deleting reads every row of the site (the
    tables are keyed by slice before day), about 0.8 s a table at 1M events on PostgreSQL.
    """
    if clear:
        for table in (Rollup, Sketch):
            session.execute(delete(table).where(
                table.site == site, table.day == day, table.filter_dim != ""
            ))  # fmt: skip
    add(session, site, [final(visit) for visit in visits], fresh=True)


def add(session: Session, site: str, finals: Sequence[Final], fresh: bool = False) -> None:
    """Add final visits to the pair rows and pair sketches of their days. `fresh`: the days'
    pair rows were just deleted; else the sketches these visits touch are read first (only
    those: a busy day has hundreds of thousands)."""
    fanned = list(fan_out(finals))
    wanted: dict[dt.date, set[SubKey]] = defaultdict(set)
    for found in fanned:
        for day, sub, _ in found.visitors:
            if sub[0]:
                wanted[day].add(sub)
    cache = DayCache()
    for day, subs in wanted.items():
        cache.day(site, 0, day, {} if fresh else repository.some_sketches(session, site, day, subs))
    counts: dict[Key, list[int]] = {}
    for found in fanned:
        accumulate(counts, found.counts.items())
        cache.add(site, 0, Fanned(found.counts, [v for v in found.visitors if v[1][0]]))
    totals = {key: as_counts(row) for key, row in counts.items()}
    repository.add_counts(session, site, totals, fresh)
    repository.put_sketches(session, cache.take_touched(), fresh)


def final(visit: RawVisit) -> Final:
    own = [("", "", visit.counts())]
    for dimension in (*raw.VISIT_DIMENSIONS, "entry_page", "exit_page", "page", "event"):
        own += [(dimension, value, figures) for value, figures in raw.rows_for(visit, dimension)]
    found = [(d, visit.values[d]) for d in ("source", "country", "device")]
    return Final(visit.day, visit.visitor_key, own, found + [("page", p) for p in visit.page_views])


def built_days(session: Session, site: str, days: Sequence[dt.date]) -> set[dt.date]:
    c = DayColumns
    stmt = select(c.day).where(c.site == site, c.day.in_(list(days)), c.pairs.is_(True))
    return set(session.scalars(stmt))


def _flag(session: Session, site: str, day: dt.date) -> tuple[int, bool]:
    c = DayColumns
    row = session.execute(select(c.version, c.pairs).where(c.site == site, c.day == day)).first()
    return (0, False) if row is None else (int(row[0]), bool(row[1]))
