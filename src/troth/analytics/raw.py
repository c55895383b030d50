"""The same answers computed from raw events: the fallback for other filters, and the oracle.

Visits are grouped by `visit_id` in SQL (their span, counts, first event, entry and exit
pages, pages and custom events); filters and figures are then applied to those visits here,
written independently of the rollup code. Events are read over the period widened by a day
on each side, so a visit is seen whole when it lasts under a day.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.orm import Session

from troth.analytics.figures import (
    NO_FILTERS,
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
from troth.analytics.models import MAX_VALUE
from troth.analytics.visits import (
    CUSTOM,
    DIRECT,
    PAGEVIEW,
    ROW_DIMENSIONS,
    VISIT_DIMENSIONS,
    ColumnRow,
    Counts,
    Visit,
    cut,
    micros,
    named,
    utc,
)
from troth.collect.models import StoredEvent as E

DAY = dt.timedelta(days=1)
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_COLUMNS = {
    "source": E.referrer_host, "utm_source": E.utm_source, "utm_medium": E.utm_medium,
    "utm_campaign": E.utm_campaign, "browser": E.browser, "os": E.os, "device": E.device,
    "language": E.language, "country": E.country,
}  # fmt: skip


@dataclass
class RawVisit:
    visit_id: int
    visitor_key: str = ""
    day: dt.date = dt.date.min
    values: dict[str, str] = field(default_factory=dict)
    pageviews: int = 0
    events: int = 0
    duration_us: int = 0
    last: dt.datetime = EARLIEST
    page_views: dict[str, int] = field(default_factory=dict)
    page_events: dict[str, int] = field(default_factory=dict)
    custom: dict[str, int] = field(default_factory=dict)

    @property
    def bounces(self) -> int:
        return int(self.pageviews == 1 and not self.custom)

    @property
    def entry_page(self) -> str | None:
        return self.values.get("entry_page")

    @property
    def exit_page(self) -> str | None:
        return self.values.get("exit_page")

    def counts(self) -> Counts:
        return (self.pageviews, self.events, 1, self.bounces, self.duration_us)

    def column_row(self) -> ColumnRow:
        get = self.values.get
        return (
            self.visit_id, self.visitor_key, self.pageviews, self.events, self.bounces,
            self.duration_us, get("entry_page"), get("exit_page"),
            tuple(map(get, VISIT_DIMENSIONS)),
        )  # fmt: skip

    def matches(self, dimension: str, value: str) -> bool:
        if dimension == "page":
            return value in self.page_views
        if dimension == "event":
            return value in self.custom
        return self.values.get(dimension) == value


def as_raw(visit: Visit) -> RawVisit:
    """The same visit in the shape the figures are computed from."""
    values = named(visit.values)
    if visit.entry is not None:
        values["entry_page"] = visit.entry[1]
    if visit.exit is not None:
        values["exit_page"] = visit.exit[1]
    return RawVisit(
        visit.visit_id, visit.visitor_key, visit.day, values, visit.pageviews, visit.events,
        visit.duration_us, visit.last[0], dict(visit.page_views), dict(visit.page_events),
        dict(visit.custom),
    )  # fmt: skip


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def candidates(site: str, lo: dt.datetime, hi: dt.datetime, filters: Filters) -> list[Any]:
    """Narrow the events read to visits that can match (exact matching happens afterwards).

    Shared with `scan.py`: it only narrows, so the oracle's answers stay its own.
    """
    conditions = []
    for dimension, value in filters.values:
        sub = select(E.visit_id).where(E.site == site, E.ts >= lo, E.ts < hi)
        if dimension == "page":
            sub = sub.where(E.kind == PAGEVIEW, _cut_equals(E.path, value))
        elif dimension == "event":
            sub = sub.where(E.kind == CUSTOM, _cut_equals(E.name, value))
        else:
            sub = sub.where(_cut_equals(_COLUMNS[dimension], "" if value == DIRECT else value))
        conditions.append(E.visit_id.in_(sub.scalar_subquery()))
    return conditions


def _cut_equals(column: Any, value: str) -> ColumnElement[bool]:
    """Whether the stored value, cut as visits keep it (`visits.cut`), equals `value`."""
    if len(value) < MAX_VALUE:
        return column == value  # type: ignore[no-any-return]
    return func.substr(column, 1, MAX_VALUE) == value


def load(
    session: Session, site: str, period: Period, filters: Filters = NO_FILTERS,
    since: dt.datetime | None = None, open_since: dt.datetime | None = None,
) -> list[RawVisit]:  # fmt: skip
    """The visits that start within the period and match every filter.

    With `since`, only visits with an event at or after that moment (the open ones), which
    start no earlier than `open_since`.
    """
    lo, hi = day_start(period.start) - DAY, day_start(period.end) + 2 * DAY
    if since is not None:
        lo = max(lo, open_since or since - DAY)
    where: list[ColumnElement[bool]] = [E.site == site, E.ts >= lo, E.ts < hi]
    where += candidates(site, lo, hi, filters)
    if since is not None:
        recent = select(E.visit_id).where(E.site == site, E.ts >= since)
        where.append(E.visit_id.in_(recent.scalar_subquery()))
    visits: dict[int, RawVisit] = defaultdict(lambda: RawVisit(0))
    _spans(session, where, visits)
    _firsts(session, where, visits)
    _ends(session, where, visits)
    _pages(session, where, visits)
    _custom(session, where, visits)
    for visit_id, visit in visits.items():
        visit.visit_id = visit_id
    return [
        visit for visit in visits.values()
        if period.start <= visit.day <= period.end
        and all(visit.matches(d, v) for d, v in filters.values)
    ]  # fmt: skip


def _spans(session: Session, where: list[Any], visits: dict[int, RawVisit]) -> None:
    stmt = select(
        E.visit_id, func.min(E.ts), func.max(E.ts), func.count(),
        func.sum(case((E.kind == PAGEVIEW, 1), else_=0)),
    ).where(*where).group_by(E.visit_id)  # fmt: skip
    for visit_id, first, last, events, pageviews in session.execute(stmt):
        visit = visits[visit_id]
        visit.events, visit.pageviews = int(events), int(pageviews or 0)
        visit.duration_us, visit.last = micros(utc(last) - utc(first)), utc(last)


def _ranked(where: list[Any], *columns: Any, order: list[Any], kind: str | None = None) -> Any:
    number = func.row_number().over(partition_by=E.visit_id, order_by=order).label("n")
    stmt: Select[Any] = select(E.visit_id, *columns, number).where(*where)
    if kind is not None:
        stmt = stmt.where(E.kind == kind)
    return stmt.subquery()


def _firsts(session: Session, where: list[Any], visits: dict[int, RawVisit]) -> None:
    columns = [E.ts, E.visitor_key, *_COLUMNS.values()]
    ranked_ = _ranked(where, *columns, order=[E.ts, E.id])
    for row in session.execute(select(ranked_).where(ranked_.c.n == 1)).mappings():
        visit = visits[row["visit_id"]]
        visit.day, visit.visitor_key = utc(row["ts"]).date(), row["visitor_key"]
        visit.values.update({name: cut(row[column.key] or "") for name, column in
                             _COLUMNS.items()})  # fmt: skip
        visit.values["source"] = visit.values["source"] or DIRECT


def _ends(session: Session, where: list[Any], visits: dict[int, RawVisit]) -> None:
    for name, order in (("entry_page", [E.ts, E.id]), ("exit_page", [E.ts.desc(), E.id.desc()])):
        ranked_ = _ranked(where, E.path, order=order, kind=PAGEVIEW)
        for visit_id, path, _ in session.execute(select(ranked_).where(ranked_.c.n == 1)):
            visits[visit_id].values[name] = cut(path)


def _pages(session: Session, where: list[Any], visits: dict[int, RawVisit]) -> None:
    views = func.sum(case((E.kind == PAGEVIEW, 1), else_=0))
    stmt = select(E.visit_id, E.path, views, func.count()).where(*where)
    for visit_id, path, pageviews, events in session.execute(stmt.group_by(E.visit_id, E.path)):
        visit, path = visits[visit_id], cut(path)
        if pageviews:
            visit.page_views[path] = visit.page_views.get(path, 0) + int(pageviews)
        visit.page_events[path] = visit.page_events.get(path, 0) + int(events)


def _custom(session: Session, where: list[Any], visits: dict[int, RawVisit]) -> None:
    stmt = select(E.visit_id, E.name, func.count()).where(*where, E.kind == CUSTOM)
    for visit_id, name, count in session.execute(stmt.group_by(E.visit_id, E.name)):
        visit, name = visits[visit_id], cut(name)
        visit.custom[name] = visit.custom.get(name, 0) + int(count)


# Figures from visits -----------------------------------------------------------------------


def _sum(counts: Iterable[Counts]) -> Counts:
    total = [0, 0, 0, 0, 0]
    for row in counts:
        for i, n in enumerate(row):
            total[i] += n
    return total[0], total[1], total[2], total[3], total[4]


def totals_of(visits: list[RawVisit]) -> Totals:
    visitors = len({visit.visitor_key for visit in visits})
    return make_totals(visitors, _sum(v.counts() for v in visits), True)


def series_of(visits: list[RawVisit], period: Period) -> list[Point]:
    by_day: dict[dt.date, list[RawVisit]] = defaultdict(list)
    for visit in visits:
        by_day[visit.day].append(visit)
    return [
        make_point(day, len({v.visitor_key for v in by_day[day]}),
                   _sum(v.counts() for v in by_day[day]))
        for day in period.each_day()
    ]  # fmt: skip


def groups(visits: list[RawVisit], dimension: str) -> dict[str, tuple[set[str], Counts]]:
    """Per value of the dimension: its visitors and its summed counts."""
    keys: dict[str, set[str]] = defaultdict(set)
    counts: dict[str, list[Counts]] = defaultdict(list)
    for visit in visits:
        for value, figures in rows_for(visit, dimension):
            keys[value].add(visit.visitor_key)
            counts[value].append(figures)
    return {value: (keys[value], _sum(counts[value])) for value in keys}


def rows_for(visit: RawVisit, dimension: str) -> list[tuple[str, Counts]]:
    if dimension == "page":
        return [
            (path, (views, visit.page_events[path], 1, visit.bounces, visit.duration_us))
            for path, views in visit.page_views.items()
        ]
    if dimension == "event":
        return [(name, (0, count, 1, 0, 0)) for name, count in visit.custom.items()]
    if dimension in visit.values:
        return [(visit.values[dimension], visit.counts())]
    return []


def visit_rows(visit: RawVisit) -> list[tuple[str, str, Counts]]:
    """(dimension, value, counts) of every unfiltered row the visit adds to."""
    found = [("", "", visit.counts())]
    for dimension in ROW_DIMENSIONS:
        found += [(dimension, value, figures) for value, figures in rows_for(visit, dimension)]
    return found


def rows_of(visits: list[RawVisit], dimension: str) -> list[Row]:
    return ranked([
        make_row(value, len(keys), counts)
        for value, (keys, counts) in groups(visits, dimension).items()
    ])  # fmt: skip


# The interface, answered from raw events ---------------------------------------------------


def totals(session: Session, site: str, period: Period, filters: Filters = NO_FILTERS) -> Totals:
    return totals_of(load(session, site, period, filters))


def series(
    session: Session, site: str, period: Period, filters: Filters = NO_FILTERS
) -> list[Point]:
    return series_of(load(session, site, period, filters), period)


def breakdown(
    session: Session, site: str, period: Period, dimension: str,
    filters: Filters = NO_FILTERS, limit: int = 10, offset: int = 0,
) -> list[Row]:  # fmt: skip
    return rows_of(load(session, site, period, filters), dimension)[offset : offset + limit]


__all__ = [
    "VISIT_DIMENSIONS", "RawVisit", "breakdown", "candidates", "day_start", "load", "rows_for",
    "series", "totals", "visit_rows",
]  # fmt: skip
