"""A visit's state, and the rollup figures it contributes once it is final.

Rules shared by the rollups and by `raw.py`:
- a visit belongs to the UTC day of its first event and carries that event's dimensions;
  "first" and "last" order events by (ts, arrival), arrival being the event id once stored;
- entry page = path of its first pageview, exit page = path of its last pageview;
- a bounce is a visit with one pageview and no custom event (kind "event");
- duration = last ts − first ts;
- a filter selects visits: by the visit's value for a visit dimension, by "viewed that page"
  for page and by "had that custom event" for event.

A visit's figures change with every event it gets (a second page view takes its bounce away,
the exit page moves), so both the unfiltered and the filtered ones (pair rollups) are written
once, when the visit is final; until then a view reads it from raw events.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from troth.analytics.models import MAX_VALUE

VISIT_DIMENSIONS = (
    "source", "utm_source", "utm_medium", "utm_campaign",
    "browser", "os", "device", "language", "country",
)  # fmt: skip
ROW_DIMENSIONS = (*VISIT_DIMENSIONS, "entry_page", "exit_page", "page", "event")
"""The dimensions of the rows a visit adds to, beside its total."""
ROLLUP_FILTERS = ("page", "source", "country", "device")
DIRECT = "Direct / None"
PAGEVIEW = "pageview"
CUSTOM = "event"

Counts = tuple[int, int, int, int, int]
"""(pageviews, events, visits, bounces, duration in microseconds)."""
Key = tuple[dt.date, str, str, str, str]
"""(day, filter_dim, filter_value, dimension, value)."""
Order = tuple[dt.datetime, int]
"""(ts, arrival): how events of a visit are ordered."""
Values = tuple[str, ...]
"""A visit's value of each visit dimension, in the order of `VISIT_DIMENSIONS`."""
ColumnRow = tuple[int, str, int, int, int, int, str | None, str | None, Sequence[str | None]]
"""A final visit as `columns.py` takes it: id, visitor key, page views, events, bounces,
duration (µs), entry and exit pages, and its visit dimensions' values."""


def accumulate(
    acc: dict[Key, list[int]], figures: Iterable[tuple[Key, Counts]], sign: int = 1
) -> None:
    """Add (or with sign -1 subtract) each key's counts into running sums."""
    for key, (a, b, c, d, e) in figures:
        row = acc.get(key)
        if row is None:
            acc[key] = [sign * a, sign * b, sign * c, sign * d, sign * e]
        else:
            row[0] += sign * a
            row[1] += sign * b
            row[2] += sign * c
            row[3] += sign * d
            row[4] += sign * e


def as_counts(row: list[int]) -> Counts:
    return row[0], row[1], row[2], row[3], row[4]


def utc(moment: dt.datetime) -> dt.datetime:
    """SQLite gives back naive datetimes; every stored time is UTC."""
    zone = moment.tzinfo
    if zone is dt.UTC:
        return moment
    return moment.replace(tzinfo=dt.UTC) if zone is None else moment.astimezone(dt.UTC)


def cut(value: str) -> str:
    return value[:MAX_VALUE]


VALUE_COLUMNS = ("referrer_host", *VISIT_DIMENSIONS[1:])
"""The event columns the visit dimensions come from, in their order."""
_row_values = operator.itemgetter(*VALUE_COLUMNS)


def visit_values(row: Mapping[str, Any]) -> Values:
    """The visit dimensions as an event row gives them (its text values plain `str`, as the
    journal and the database give them: a subclass would be kept as it is)."""
    # Once for every new visit, about one event in two: the usual row (every column there,
    # strings short enough together) is read without a Python call per dimension, into a
    # tuple (a dict of them cost more than the rest of opening the visit). Joining them
    # checks both at once: it fails on a value that is not a string.
    try:
        found: Values = _row_values(row)
        if len("".join(found)) > MAX_VALUE:
            raise TypeError
    except (KeyError, TypeError):
        found = tuple(_text(row.get(name)) for name in VALUE_COLUMNS)
    return found if found[0] else (DIRECT, *found[1:])


def named(values: Values) -> dict[str, str]:
    return dict(zip(VISIT_DIMENSIONS, values, strict=True))


def _text(value: object) -> str:
    # Once per dimension of every new visit: a string (nearly always) is only cut.
    return (value if value.__class__ is str else str(value or ""))[:MAX_VALUE]


MICROSECOND = dt.timedelta(microseconds=1)


def micros(delta: dt.timedelta) -> int:
    return delta // MICROSECOND  # exact: a timedelta is a whole number of microseconds


@dataclass(slots=True)
class Visit:
    visit_id: int
    visitor_key: str
    first: Order
    values: Values
    last: Order
    entry: tuple[Order, str] | None = None
    exit: tuple[Order, str] | None = None
    pageviews: int = 0
    events: int = 0
    page_views: dict[str, int] = field(default_factory=dict)
    page_events: dict[str, int] = field(default_factory=dict)
    custom: dict[str, int] = field(default_factory=dict)

    @classmethod
    def open(cls, visit_id: int, row: Mapping[str, Any], order: Order) -> Visit:
        return cls(visit_id, str(row["visitor_key"]), order, visit_values(row), order)

    def add(self, row: Mapping[str, Any], order: Order) -> None:
        if order > self.last:
            self.last = order
        elif order < self.first:
            self.first, self.values = order, visit_values(row)
        path, kind = row.get("path"), row["kind"]
        if path.__class__ is not str or len(path) > MAX_VALUE:
            path = _text(path)
        self.events += 1
        events = self.page_events
        events[path] = events.get(path, 0) + 1
        if kind == PAGEVIEW:
            self.pageviews += 1
            views = self.page_views
            views[path] = views.get(path, 0) + 1
            if self.entry is None or order < self.entry[0]:
                self.entry = (order, path)
            if self.exit is None or order >= self.exit[0]:
                self.exit = (order, path)
        elif kind == CUSTOM:
            name = _text(row.get("name"))
            self.custom[name] = self.custom.get(name, 0) + 1

    @property
    def day(self) -> dt.date:
        return self.first[0].date()

    @property
    def bounces(self) -> int:
        return int(self.pageviews == 1 and not self.custom)

    @property
    def entry_page(self) -> str | None:
        return None if self.entry is None else self.entry[1]

    @property
    def exit_page(self) -> str | None:
        return None if self.exit is None else self.exit[1]

    @property
    def duration_us(self) -> int:
        return micros(self.last[0] - self.first[0])

    def column_row(self) -> ColumnRow:
        # The properties above, inlined: once per final visit, at every watermark. A test
        # holds it equal to the same visit as the raw path reads it (test_columns.py).
        entry, exit_ = self.entry, self.exit
        return (
            self.visit_id, self.visitor_key, self.pageviews, self.events,
            int(self.pageviews == 1 and not self.custom),
            (self.last[0] - self.first[0]) // MICROSECOND,
            None if entry is None else entry[1], None if exit_ is None else exit_[1], self.values,
        )  # fmt: skip

    def copy(self) -> Visit:
        return Visit(
            self.visit_id, self.visitor_key, self.first, self.values, self.last,
            self.entry, self.exit, self.pageviews, self.events, dict(self.page_views),
            dict(self.page_events), dict(self.custom),
        )  # fmt: skip


def as_dicts(result: Any) -> Iterator[dict[str, Any]]:
    """A query's rows as plain dicts: each is read a dozen times, and a dict reads faster
    than the driver's row mapping."""
    keys = list(result.keys())
    for row in result:
        yield dict(zip(keys, row, strict=True))


def replay(rows: Iterable[Mapping[Any, Any]]) -> list[Visit]:
    """Visits rebuilt from stored event rows given in arrival (id) order."""
    visits: dict[int, Visit] = {}
    for row in rows:
        order = (utc(row["ts"]), int(row["id"]))
        visit = visits.get(row["visit_id"])
        if visit is None:
            visit = visits[row["visit_id"]] = Visit.open(row["visit_id"], row, order)
        visit.add(row, order)
    return list(visits.values())
