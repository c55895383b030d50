"""Helpers for the analytics tests: event rows, ingestion in batches, a clean slate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

import troth.analytics  # noqa: F401  (registers the ingest hooks)
from troth.analytics import column_days, columns, pair_days, raw, rollups, sessions
from troth.analytics.figures import Period
from troth.analytics.models import DayColumns, RecentVisits, Rollup, SiteState, Sketch
from troth.analytics.visits import Counts, Key, Visit, named, utc
from troth.collect.ingest import store_rows
from troth.collect.models import StoredEvent
from troth.jobs.models import Job
from troth.runtime import Runtime

SITE = "shop.example"


def rows(visit: Visit) -> Iterator[tuple[str, str, Counts]]:
    """(dimension, value, counts) of one visit, unfiltered: the rules written out one visit at
    a time, against which the columns' sums are checked."""
    bounce = visit.bounces
    whole: Counts = (visit.pageviews, visit.events, 1, bounce, visit.duration_us)
    yield "", "", whole
    for name, value in named(visit.values).items():
        yield name, value, whole
    if visit.entry is not None:
        yield "entry_page", visit.entry[1], whole
    if visit.exit is not None:
        yield "exit_page", visit.exit[1], whole
    for path, views in visit.page_views.items():
        yield "page", path, (views, visit.page_events[path], 1, bounce, visit.duration_us)
    for name, count in visit.custom.items():
        yield "event", name, (0, count, 1, 0, 0)


def contribution(visit: Visit) -> dict[Key, Counts]:
    """The unfiltered figures of a visit, by key."""
    return {(visit.day, "", "", dim, value): counts for dim, value, counts in rows(visit)}


def row(
    visitor: str, ts: dt.datetime, path: str = "/", *, kind: str = "pageview", name: str = "",
    referrer: str = "", country: str = "", device: str = "desktop", browser: str = "Firefox",
    props: dict[str, Any] | None = None, site: str = SITE, utm_campaign: str = "",
) -> dict[str, Any]:  # fmt: skip
    return {
        "site": site, "ts": ts, "kind": kind, "name": name, "path": path, "title": "",
        "hostname": site, "referrer_host": referrer, "referrer_path": "", "utm_source": "",
        "utm_medium": "", "utm_campaign": utm_campaign, "utm_term": "", "utm_content": "",
        "country": country, "language": "en", "browser": browser, "browser_version": "",
        "os": "Linux", "os_version": "", "device": device, "visitor_key": visitor,
        "cookieless": False, "props": props, "ip": "", "person_id": None, "visit_id": 0,
    }  # fmt: skip


def ingest(runtime: Runtime, batches: Sequence[Sequence[dict[str, Any]]]) -> None:
    for batch in batches:
        with runtime.transaction() as session:
            store_rows(session, [dict(r) for r in batch])


def clean(runtime: Runtime) -> None:
    with runtime.transaction() as session:
        for table in (Rollup, Sketch, SiteState, DayColumns, RecentVisits, StoredEvent):
            session.execute(delete(table))
        session.execute(delete(Job).where(Job.kind.in_([column_days.JOB_KIND, pair_days.JOB_KIND])))
    rollups.forget()


def unfiltered_as_before(session: Session, state: SiteState, days: Sequence[dt.date]) -> None:
    """The unfiltered rows of these days' final visits as a version before
    `SiteState.unfiltered_from` wrote them (with each watermark), and the site marked as the
    migration to it marks it: its new way starts the day after the last of them."""
    write_unfiltered(session, state, days)
    state.unfiltered_from = max(days) + dt.timedelta(days=1)


def write_unfiltered(session: Session, state: SiteState, days: Sequence[dt.date]) -> None:
    """Add the unfiltered rows and sketches of these days' final visits, as a version before
    `SiteState.unfiltered_from` did with each watermark."""
    before = utc(state.flushed_before)
    for day in days:
        final = [v for v in raw.load(session, state.site, Period(day, day)) if v.last < before]
        words = columns.Vocabulary()
        block = columns.from_visits(day, final, words)
        visitors = [v.visitor_key for v in final]
        pair_days.add_block(session, state.site, block, visitors, words, unfiltered=True,
                            pairs=False)  # fmt: skip


@contextmanager
def assigned(how: str) -> Iterator[None]:
    """Every batch's visits assigned "sorted" (`sorted_batch.py`) or "event by event",
    whatever its size and span."""
    saved = sessions.SORTED_FROM, sessions.SORTED_SPAN
    sessions.SORTED_FROM = 1 if how == "sorted" else 10**9
    sessions.SORTED_SPAN = dt.timedelta(0)
    try:
        yield
    finally:
        sessions.SORTED_FROM, sessions.SORTED_SPAN = saved
