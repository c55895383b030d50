"""The analytics read path: every answer from rollups and sketches when they can give it.

No filter, or one filter on page, source, country or device: rollups (the pair rollups for
the filter). Anything else: visit columns (`selection.py`). Counts and sketches hold final
visits only, so the still-open visits (the last half hour or so) are read from raw events
and added in.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from troth.analytics import repository
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
)  # fmt: skip
from troth.analytics.reader import Reader
from troth.analytics.selection import select_visits
from troth.analytics.visits import CUSTOM
from troth.collect.models import StoredEvent as E
from troth.errors import BadRequest

__all__ = [
    "DIMENSIONS", "FILTER_DIMENSIONS", "Dashboard", "Filters", "Period", "Point", "Row",
    "Totals", "breakdown", "dashboard", "event_properties", "realtime_visitors", "series",
    "sites", "totals",
]  # fmt: skip

REALTIME = dt.timedelta(minutes=5)
READS = 3
"""Times an answer is read at most while the site's visits keep moving under it."""
T = TypeVar("T")
MAX_LIMIT = 1000


def _check(dimension: str, limit: int, offset: int) -> None:
    if dimension not in DIMENSIONS:
        raise BadRequest(f"unknown dimension {dimension!r}: use one of {', '.join(DIMENSIONS)}")
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise BadRequest(f"limit must be 1 to {MAX_LIMIT} and offset 0 or more")


def settled_read(session: Session, site: str, answer: Callable[[], T]) -> T:
    """An answer whose statements all saw the site's visits in the same places.

    An answer reads a dozen statements (settled parts, moving days, waiting blocks, open
    visits). On PostgreSQL each sees what was committed when it began: a day's job or a write
    of final visits committing between two of them could count a day twice or miss a block.
    Both change the site's stamp, so the answer is read again when the stamp moved meanwhile
    (a merge of waiting blocks does not: `recent.blocks` reads around it). The last attempt
    holds the rollup writers off while it reads.
    (A snapshot transaction of its own would cost a second pooled connection per request,
    taken while the request's first holds the audit lock.) On SQLite the request's
    transaction holds the database from BEGIN on, and the stamp never moves.
    """
    for _ in range(READS - 1):
        before = repository.stamp(session, site)
        found = answer()
        if repository.stamp(session, site) == before:
            return found
    with repository.rollups_held_still(session):  # rare: writers wait for this one answer
        return answer()


def totals(session: Session, site: str, period: Period, filters: Filters = NO_FILTERS) -> Totals:
    slice_ = filters.rollup_slice
    if slice_ is None:
        return settled_read(
            session, site, lambda: select_visits(session, site, period, filters).totals()
        )
    return settled_read(
        session, site, lambda: Reader(session, site, slice_, period, filters).totals()
    )


def series(
    session: Session, site: str, period: Period, filters: Filters = NO_FILTERS
) -> list[Point]:
    slice_ = filters.rollup_slice
    if slice_ is None:
        return settled_read(
            session, site, lambda: select_visits(session, site, period, filters).series(period)
        )
    return settled_read(
        session, site, lambda: Reader(session, site, slice_, period, filters).series()
    )


def breakdown(
    session: Session, site: str, period: Period, dimension: str,
    filters: Filters = NO_FILTERS, limit: int = 10, offset: int = 0,
) -> list[Row]:  # fmt: skip
    _check(dimension, limit, offset)
    slice_ = filters.rollup_slice

    def answer() -> list[Row]:
        if slice_ is None:
            return select_visits(session, site, period, filters).breakdown(dimension, limit, offset)
        reader = Reader(session, site, slice_, period, filters)
        return reader.breakdowns([dimension], limit, offset)[dimension]

    return settled_read(session, site, answer)


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
    allowed = select_visits(session, site, period, filters).visit_ids() if filters.values \
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
        return settled_read(session, site, lambda: _columns_dashboard(
            session, site, period, filters, compare, limit, now
        ))  # fmt: skip

    def answer() -> Dashboard:
        reader = Reader(session, site, slice_, period, filters)
        previous = None
        if compare:
            previous = Reader(session, site, slice_, period.previous(), filters).totals()
        return Dashboard(
            site, period, filters, reader.totals(), previous, reader.series(),
            reader.breakdowns(DIMENSIONS, limit), realtime_visitors(session, site, now),
            "rollups",
        )  # fmt: skip

    return settled_read(session, site, answer)


def _columns_dashboard(
    session: Session, site: str, period: Period, filters: Filters, compare: bool,
    limit: int, now: dt.datetime,
) -> Dashboard:  # fmt: skip
    visits = select_visits(session, site, period, filters)
    previous = select_visits(session, site, period.previous(), filters).totals() if compare \
        else None  # fmt: skip
    return Dashboard(
        site, period, filters, visits.totals(), previous, visits.series(period),
        {d: visits.breakdown(d, limit) for d in DIMENSIONS},
        realtime_visitors(session, site, now), "visit columns",
    )  # fmt: skip


def sites(session: Session) -> list[str]:
    return repository.sites(session)
