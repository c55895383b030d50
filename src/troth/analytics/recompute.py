"""Rebuild one day's rollups and sketches from raw events (after events are erased).

The day's final visits (before the site's watermark) are written as its rollups if the
day is built, else as one block (`recent.py`) that waits for its day's job (and, on a day
before the site's `unfiltered_from`, as its unfiltered rows too, as that day keeps them);
open ones are still read from raw events at query time (a site whose counts still hold its
open visits, `SiteState.open_counted`, gets them counted as before). The site's epoch changes, so an
ingester reloads its open visits from raw events.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from troth.analytics import column_days, columns, pair_days, raw, recent, repository
from troth.analytics.columns import Vocabulary
from troth.analytics.figures import Period
from troth.analytics.models import SiteState
from troth.analytics.raw import EARLIEST
from troth.analytics.sessions import new_visit_id
from troth.analytics.visits import utc
from troth.collect.models import StoredEvent
from troth.jobs.registry import registry

JOB_KIND = "analytics.recompute_day"


def recompute_day(session: Session, site: str, day: dt.date) -> None:
    repository.lock_rollups(session)
    state = _state(session, site)
    visits = raw.load(session, site, Period(day, day))
    built = bool(pair_days.built_days(session, site, [day]))
    repository.delete_day(session, site, day)
    column_days.invalidate(session, site, [day])
    flushed_before = utc(state.flushed_before)
    final_visits = [visit for visit in visits if visit.last < flushed_before]
    words = Vocabulary()
    block = columns.from_visits(day, final_visits, words)
    visitors = [visit.visitor_key for visit in final_visits]
    recent.forget_day(session, site, day)
    by_job = repository.unfiltered_by_job(state, day)
    if built or not by_job:
        pair_days.add_block(
            session, site, block, visitors, words, fresh=True, unfiltered=True, pairs=built
        )
    if state.open_counted and not by_job:  # the site's counts still hold open visits
        opened = [visit for visit in visits if visit.last >= flushed_before]
        open_words = Vocabulary()
        open_block = columns.from_visits(day, opened, open_words)
        repository.add_counts(session, site, columns.unfiltered_counts(open_block, open_words))
    if not built:
        recent.add_block(session, site, block, words, visitors)
        if final_visits and day < utc(state.open_since).date():
            pair_days.queue_day(session, site, day)
    state.epoch = new_visit_id()
    session.flush()


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
