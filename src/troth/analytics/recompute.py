"""Rebuild one day's rollups and sketches from raw events (after events are erased).

Unfiltered counts come from every visit that starts that day. Filtered counts (pair
rollups) and sketches take only the visits that are final (before the site's watermark):
open ones are still read from raw events at query time. The site's epoch changes, so an
ingester reloads its open visits from raw events.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from troth.analytics import raw, repository
from troth.analytics.figures import Period
from troth.analytics.models import SiteState
from troth.analytics.sessions import new_visit_id
from troth.analytics.sketches import DayCache
from troth.analytics.visits import Counts, Key, accumulate, as_counts, utc
from troth.collect.models import StoredEvent
from troth.jobs.registry import registry

JOB_KIND = "analytics.recompute_day"
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def recompute_day(session: Session, site: str, day: dt.date) -> None:
    repository.lock_rollups(session)
    state = _state(session, site)
    visits = raw.load(session, site, Period(day, day))
    repository.delete_day(session, site, day)
    counts: dict[Key, list[int]] = {}
    cache = DayCache()
    cache.day(site, 0, day, {})
    flushed_before = utc(state.flushed_before)
    for visit in visits:
        figures = _keys(visit)
        if visit.last < flushed_before:
            accumulate(counts, figures)
            cache.add_all(site, 0, day, [key[1:] for key, _ in figures], visit.visitor_key)
        else:  # still open: only in the unfiltered counts (see rollups.py)
            accumulate(counts, [(key, c) for key, c in figures if not key[1]])
    repository.add_counts(session, site, {k: as_counts(v) for k, v in counts.items()})
    repository.put_sketches(session, cache.take_touched())
    state.epoch = new_visit_id()
    session.flush()


def _keys(visit: raw.RawVisit) -> list[tuple[Key, Counts]]:
    own = [("", "", visit.counts())]
    for dimension in (*raw.VISIT_DIMENSIONS, "entry_page", "exit_page", "page", "event"):
        own += [(dimension, value, figures) for value, figures in raw.rows_for(visit, dimension)]
    slices = [("", ""), *((d, visit.values[d]) for d in ("source", "country", "device"))]
    slices += [("page", path) for path in visit.page_views]
    return [
        ((visit.day, fdim, fvalue, dim, value), figures)
        for fdim, fvalue in slices
        for dim, value, figures in own
    ]


def _state(session: Session, site: str) -> SiteState:
    """The site's state; a site never ingested through the hooks counts every visit as final."""
    state = repository.state(session, site)
    if state is None:
        newest = session.scalar(select(func.max(StoredEvent.ts)).where(StoredEvent.site == site))
        flushed = utc(newest) + dt.timedelta(microseconds=1) if newest else EARLIEST
        state = SiteState(
            site=site, epoch=new_visit_id(), flushed_before=flushed, open_since=flushed
        )
        session.add(state)
        session.flush()
    return state


def _job(session: Session, payload: dict[str, Any]) -> None:
    for day in payload.get("days") or [payload["day"]]:
        recompute_day(session, str(payload["site"]), dt.date.fromisoformat(str(day)))


registry.register(JOB_KIND, _job)
