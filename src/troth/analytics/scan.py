"""Filters the rollups do not hold, answered by replaying the matching visits' events.

One query narrows the period's events to the visits that can match (`raw.candidates`)
and reads them in arrival order; the visits are then rebuilt in Python with the same rules
as at ingest (`visits.Visit`). `raw.py` answers the same questions in SQL and is kept as
the independent oracle the tests compare both against.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from troth.analytics.figures import NO_FILTERS, Filters, Period
from troth.analytics.raw import RawVisit, candidates, day_start
from troth.analytics.sessions import COLUMNS
from troth.analytics.visits import Visit, as_dicts, replay
from troth.collect.models import StoredEvent as E

DAY = dt.timedelta(days=1)


def as_raw(visit: Visit) -> RawVisit:
    """The same visit in the shape the figures are computed from."""
    values = dict(visit.values)
    if visit.entry is not None:
        values["entry_page"] = visit.entry[1]
    if visit.exit is not None:
        values["exit_page"] = visit.exit[1]
    return RawVisit(
        visit.visit_id, visit.visitor_key, visit.day, values, visit.pageviews, visit.events,
        visit.duration_us, visit.last[0], dict(visit.page_views), dict(visit.page_events),
        dict(visit.custom),
    )  # fmt: skip


def load(
    session: Session, site: str, period: Period, filters: Filters = NO_FILTERS
) -> list[RawVisit]:
    """The visits that start within the period and match every filter.

    Events are read over the period widened by a day on each side, so a visit is seen whole
    when it lasts under a day (as in `raw.load`).
    """
    lo, hi = day_start(period.start) - DAY, day_start(period.end) + 2 * DAY
    stmt = select(*COLUMNS).where(E.site == site, E.ts >= lo, E.ts < hi)
    stmt = stmt.where(*candidates(site, lo, hi, filters)).order_by(E.id)
    visits = [as_raw(v) for v in replay(as_dicts(session.execute(stmt)))]
    return [
        visit for visit in visits
        if period.start <= visit.day <= period.end
        and all(visit.matches(d, v) for d, v in filters.values)
    ]  # fmt: skip
