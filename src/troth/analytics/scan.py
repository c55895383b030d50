"""Filters the rollups do not hold, answered by replaying the matching visits' events.

One query narrows the period's events to the visits that can match (`raw.candidates`)
and reads them in arrival order; the visits are then rebuilt in Python with the same rules
as at ingest (`visits.Visit`). Used for moving days that waiting blocks cannot give, to
build a settled day's visit columns once, and (`open_visits`) for the visits not yet final,
which every view adds. `raw.py` answers the same questions in SQL and is kept as
the independent oracle the tests compare both against.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from troth.analytics import live_visits
from troth.analytics.figures import NO_FILTERS, Filters, Period
from troth.analytics.models import SiteState
from troth.analytics.raw import RawVisit, as_raw, candidates, day_start
from troth.analytics.sessions import COLUMNS
from troth.analytics.visits import as_dicts, replay, utc
from troth.collect.models import StoredEvent as E

DAY = dt.timedelta(days=1)


def load(
    session: Session, site: str, period: Period, filters: Filters = NO_FILTERS
) -> list[RawVisit]:
    """The visits that start within the period and match every filter.

    Whole rows are read for the period's own days only. The visits already under way at its
    first midnight are known by their ids from the day before and left out; those still going
    at its last midnight are followed into the next day by their ids (as in `raw.load`, a
    visit is seen whole when it lasts under a day).
    """
    lo, hi = day_start(period.start), day_start(period.end) + DAY
    begun = _ids(session, site, lo - DAY, lo)
    stmt = select(*COLUMNS).where(E.site == site, E.ts >= lo, E.ts < hi)
    stmt = stmt.where(*candidates(site, lo, hi + DAY, filters)).order_by(E.id)
    rows = [row for row in as_dicts(session.execute(stmt)) if row["visit_id"] not in begun]
    going = _ids(session, site, hi, hi + DAY) & {row["visit_id"] for row in rows}
    for chunk in _chunks(sorted(going)):
        tail = select(*COLUMNS).where(E.site == site, E.ts >= hi, E.ts < hi + DAY)
        rows += as_dicts(session.execute(tail.where(E.visit_id.in_(chunk)).order_by(E.id)))
    visits = [as_raw(v) for v in replay(rows)]
    return [
        visit for visit in visits
        if period.start <= visit.day <= period.end
        and all(visit.matches(d, v) for d, v in filters.values)
    ]  # fmt: skip


def _ids(session: Session, site: str, lo: dt.datetime, hi: dt.datetime) -> set[int]:
    """The visits with an event in [lo, hi)."""
    stmt = select(E.visit_id).where(E.site == site, E.ts >= lo, E.ts < hi).distinct()
    return set(session.scalars(stmt))


def _chunks(ids: list[int], size: int = 500) -> list[list[int]]:
    return [ids[n : n + size] for n in range(0, len(ids), size)]


def open_visits(
    session: Session, state: SiteState | None, site: str, period: Period, filters: Filters
) -> list[RawVisit]:
    """Visits not yet final (so not in the pair rollups and sketches) that start within the
    period and match the filters, as this process keeps them (`live_visits.py`)."""
    if state is None:
        return []
    since, start = utc(state.flushed_before), utc(state.open_since)
    if period.end < start.date():
        return []
    first = dt.datetime(period.start.year, period.start.month, period.start.day, tzinfo=dt.UTC)
    end = first + dt.timedelta(days=period.days + 1)
    version = (state.epoch, state.revision)
    found = live_visits.current(session, site, version, since, max(start, first - DAY), end)
    visits = [v for v in found if period.start <= v.day <= period.end]
    return [v for v in visits if all(v.matches(d, value) for d, value in filters.values)]
