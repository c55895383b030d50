"""The analytics read path: every answer from rollups and sketches when they can give it.

No filter, or one filter on page, source, country or device: rollups (the pair rollups for
the filter). Anything else: raw events (`raw.py`). Unfiltered counts in rollups are always
current; pair counts and sketches hold final visits only, so the still-open visits (the last
half hour or so) are read from raw events and added in.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from troth.analytics import raw, repository
from troth.analytics.figures import (
    DIMENSIONS,
    FILTER_DIMENSIONS,
    NO_FILTERS,
    Dashboard,
    Filters,
    Period,
    Point,
    Row,
    Totals,
    make_point,
    make_row,
    make_totals,
    ranked,
)  # fmt: skip
from troth.analytics.sketches import Merge
from troth.analytics.visits import CUSTOM, Counts, utc
from troth.collect.models import StoredEvent as E
from troth.errors import BadRequest

__all__ = [
    "DIMENSIONS", "FILTER_DIMENSIONS", "Dashboard", "Filters", "Period", "Point", "Row",
    "Totals", "breakdown", "dashboard", "event_properties", "realtime_visitors", "series",
    "sites", "totals",
]  # fmt: skip

REALTIME = dt.timedelta(minutes=5)
MIN_CANDIDATES = 20
"""Values whose visitors are estimated for a breakdown: the most visited, at least this many."""
MAX_LIMIT = 1000
ZERO: Counts = (0, 0, 0, 0, 0)

Slice = tuple[str, str]


def _open_visits(
    session: Session, site: str, period: Period, filters: Filters
) -> list[raw.RawVisit]:
    """Visits not yet final (so not yet in the sketches) that start within the period."""
    state = repository.state(session, site)
    if state is None:
        return []
    since, start = utc(state.flushed_before), utc(state.open_since)
    if period.end < start.date():
        return []
    return raw.load(session, site, period, filters, since=since, open_since=start)


def _visitors(
    session: Session, site: str, slice_: Slice, period: Period, open_keys: set[str]
) -> tuple[int, bool]:
    merge = Merge("")
    for _, _, data in repository.sketch_bytes(session, site, slice_, "", period.start,
                                              period.end):  # fmt: skip
        merge.add_bytes(data)
    merge.add_visitors(open_keys)
    return merge.result()


def _unsaved(slice_: Slice, open_: list[raw.RawVisit]) -> list[raw.RawVisit]:
    """The open visits whose counts the slice's rollups do not hold yet (filtered slices)."""
    return open_ if slice_ != ("", "") else []


def _add(a: Counts, b: Counts) -> Counts:
    return a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3], a[4] + b[4]


def _totals(
    session: Session, site: str, slice_: Slice, period: Period, open_: list[raw.RawVisit]
) -> Totals:
    counts = repository.total_counts(session, site, slice_, period.start, period.end)
    for visit in _unsaved(slice_, open_):
        counts = _add(counts, visit.counts())
    visitors, exact = _visitors(session, site, slice_, period, {v.visitor_key for v in open_})
    return make_totals(visitors, counts, exact)


def _series(
    session: Session, site: str, slice_: Slice, period: Period, open_: list[raw.RawVisit]
) -> list[Point]:
    counts = repository.daily_counts(session, site, slice_, period.start, period.end)
    for visit in _unsaved(slice_, open_):
        counts[visit.day] = _add(counts.get(visit.day, ZERO), visit.counts())
    merges: dict[dt.date, Merge] = defaultdict(lambda: Merge(""))
    for day, _, data in repository.sketch_bytes(session, site, slice_, "", period.start,
                                                period.end):  # fmt: skip
        merges[day].add_bytes(data)
    for visit in open_:
        merges[visit.day].add_visitors([visit.visitor_key])
    return [
        make_point(day, merges[day].result()[0] if day in merges else 0,
                   counts.get(day, ZERO))
        for day in period.each_day()
    ]  # fmt: skip


def _breakdown(
    session: Session, site: str, slice_: Slice, period: Period, dimension: str,
    open_: list[raw.RawVisit], limit: int, offset: int,
) -> list[Row]:  # fmt: skip
    values = dict(
        repository.value_counts(session, site, slice_, dimension, period.start, period.end)
    )
    for value, (_, counts) in raw.groups(_unsaved(slice_, open_), dimension).items():
        values[value] = _add(values.get(value, ZERO), counts)
    most = sorted(values.items(), key=lambda item: (-item[1][2], item[0]))
    candidates = dict(most[: max(MIN_CANDIDATES, 2 * (offset + limit))])
    merges = {value: Merge(dimension) for value in candidates}
    for _, value, data in repository.sketch_bytes(
        session, site, slice_, dimension, period.start, period.end, list(candidates)
    ):
        merges[value].add_bytes(data)
    for value, (keys, _) in raw.groups(open_, dimension).items():
        if value in merges:
            merges[value].add_visitors(keys)
    rows = [make_row(v, merges[v].result()[0], counts) for v, counts in candidates.items()]
    return ranked(rows)[offset : offset + limit]


def _check(dimension: str, limit: int, offset: int) -> None:
    if dimension not in DIMENSIONS:
        raise BadRequest(f"unknown dimension {dimension!r}: use one of {', '.join(DIMENSIONS)}")
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise BadRequest(f"limit must be 1 to {MAX_LIMIT} and offset 0 or more")


def totals(session: Session, site: str, period: Period, filters: Filters = NO_FILTERS) -> Totals:
    slice_ = filters.rollup_slice
    if slice_ is None:
        return raw.totals(session, site, period, filters)
    return _totals(session, site, slice_, period, _open_visits(session, site, period, filters))


def series(
    session: Session, site: str, period: Period, filters: Filters = NO_FILTERS
) -> list[Point]:
    slice_ = filters.rollup_slice
    if slice_ is None:
        return raw.series(session, site, period, filters)
    return _series(session, site, slice_, period, _open_visits(session, site, period, filters))


def breakdown(
    session: Session, site: str, period: Period, dimension: str,
    filters: Filters = NO_FILTERS, limit: int = 10, offset: int = 0,
) -> list[Row]:  # fmt: skip
    _check(dimension, limit, offset)
    slice_ = filters.rollup_slice
    if slice_ is None:
        return raw.breakdown(session, site, period, dimension, filters, limit, offset)
    open_ = _open_visits(session, site, period, filters)
    return _breakdown(session, site, slice_, period, dimension, open_, limit, offset)


def event_properties(
    session: Session, site: str, period: Period, event_name: str,
    filters: Filters = NO_FILTERS, limit: int = 10,
) -> list[tuple[str, str, int, int]]:  # fmt: skip
    """(property key, value, events, visitors) of one custom event, most events first."""
    lo = dt.datetime(period.start.year, period.start.month, period.start.day, tzinfo=dt.UTC)
    stmt = select(E.visit_id, E.visitor_key, E.props).where(
        E.site == site, E.kind == CUSTOM, E.name == event_name,
        E.ts >= lo, E.ts < lo + dt.timedelta(days=period.days),
    )  # fmt: skip
    allowed = {v.visit_id for v in raw.load(session, site, period, filters)} if filters.values \
        else None  # fmt: skip
    events: dict[tuple[str, str], int] = defaultdict(int)
    visitors: dict[tuple[str, str], set[str]] = defaultdict(set)
    for visit_id, visitor, props in session.execute(stmt):
        if allowed is not None and visit_id not in allowed:
            continue
        for key, value in (props or {}).items():
            events[(str(key), _text(value))] += 1
            visitors[(str(key), _text(value))].add(visitor)
    rows = [(k, v, n, len(visitors[(k, v)])) for (k, v), n in events.items()]
    return sorted(rows, key=lambda r: (-r[2], r[0], r[1]))[:limit]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def realtime_visitors(session: Session, site: str, now: dt.datetime) -> int:
    stmt = select(func.count(func.distinct(E.visitor_key))).where(
        E.site == site, E.ts > now - REALTIME, E.ts <= now
    )
    return int(session.scalar(stmt) or 0)


def dashboard(
    session: Session, site: str, period: Period, filters: Filters = NO_FILTERS,
    compare: bool = False, limit: int = 10, now: dt.datetime | None = None,
) -> Dashboard:  # fmt: skip
    _check("page", limit, 0)
    now = now or dt.datetime.now(dt.UTC)
    slice_ = filters.rollup_slice
    if slice_ is None:
        return _raw_dashboard(session, site, period, filters, compare, limit, now)
    open_ = _open_visits(session, site, period, filters)
    previous = None
    if compare:
        before = period.previous()
        previous = _totals(session, site, slice_, before,
                           _open_visits(session, site, before, filters))  # fmt: skip
    return Dashboard(
        site, period, filters, _totals(session, site, slice_, period, open_), previous,
        _series(session, site, slice_, period, open_),
        {d: _breakdown(session, site, slice_, period, d, open_, limit, 0) for d in DIMENSIONS},
        realtime_visitors(session, site, now), "rollups",
    )  # fmt: skip


def _raw_dashboard(
    session: Session, site: str, period: Period, filters: Filters, compare: bool,
    limit: int, now: dt.datetime,
) -> Dashboard:  # fmt: skip
    visits = raw.load(session, site, period, filters)
    previous = raw.totals(session, site, period.previous(), filters) if compare else None
    return Dashboard(
        site, period, filters, raw.totals_of(visits), previous, raw.series_of(visits, period),
        {d: raw.rows_of(visits, d)[:limit] for d in DIMENSIONS},
        realtime_visitors(session, site, now), "raw events",
    )  # fmt: skip


def sites(session: Session) -> list[str]:
    return repository.sites(session)
