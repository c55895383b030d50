"""The shapes of analytics answers: periods, filters, totals, series points, breakdown rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from troth.analytics.models import MAX_VALUE
from troth.analytics.visits import ROLLUP_FILTERS, Counts
from troth.errors import BadRequest

DIMENSIONS = (
    "page", "entry_page", "exit_page", "source", "utm_source", "utm_medium",
    "utm_campaign", "browser", "os", "device", "language", "country", "event",
)  # fmt: skip
FILTER_DIMENSIONS = (*ROLLUP_FILTERS, "browser", "os", "language", "utm_campaign", "event")
PERIOD_NAMES = ("today", "7d", "30d", "month", "last_month", "90d", "12mo", "custom")
LONGEST_PERIOD = dt.timedelta(days=3 * 366)


@dataclass(frozen=True)
class Period:
    """Whole UTC days, both ends included."""

    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        end = self.start - dt.timedelta(days=1)
        return Period(end - dt.timedelta(days=self.days - 1), end)

    def each_day(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=n) for n in range(self.days)]

    @classmethod
    def parse(
        cls, name: str, today: dt.date, start: str | None = None, end: str | None = None
    ) -> Period:
        if name == "custom":
            return cls._custom(start, end)
        if name == "today":
            return cls(today, today)
        if name in ("7d", "30d", "90d"):
            return cls(today - dt.timedelta(days=int(name[:-1]) - 1), today)
        if name == "month":
            return cls(today.replace(day=1), today)
        if name == "last_month":
            last = today.replace(day=1) - dt.timedelta(days=1)
            return cls(last.replace(day=1), last)
        if name == "12mo":
            first = (today.replace(day=1) - dt.timedelta(days=334)).replace(day=1)
            return cls(first, today)
        raise BadRequest(f"unknown period {name!r}: use one of {', '.join(PERIOD_NAMES)}")

    @classmethod
    def _custom(cls, start: str | None, end: str | None) -> Period:
        if not start or not end:
            raise BadRequest("a custom period needs both start and end dates (YYYY-MM-DD)")
        try:
            period = cls(dt.date.fromisoformat(start), dt.date.fromisoformat(end))
        except ValueError:
            raise BadRequest("period dates must be written YYYY-MM-DD") from None
        if period.end < period.start:
            raise BadRequest("the period's end is before its start")
        if period.end - period.start > LONGEST_PERIOD:
            raise BadRequest("a period may cover at most three years")
        return period


@dataclass(frozen=True)
class Filters:
    """(dimension, exact value) pairs, all of which a visit must match."""

    values: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> Filters:
        pairs = []
        for key, value in sorted(query.items()):
            if not key.startswith("filter_"):
                continue
            dimension = key.removeprefix("filter_")
            if dimension not in FILTER_DIMENSIONS:
                raise BadRequest(
                    f"unknown filter {key!r}: filter on one of {', '.join(FILTER_DIMENSIONS)}"
                )
            if len(value) > MAX_VALUE:
                raise BadRequest(f"the value of {key} is longer than {MAX_VALUE} characters")
            pairs.append((dimension, value))
        return cls(tuple(pairs))

    @property
    def rollup_slice(self) -> tuple[str, str] | None:
        """The (filter_dim, filter_value) rollups answer, or None when visit columns must."""
        if not self.values:
            return ("", "")
        if len(self.values) == 1 and self.values[0][0] in ROLLUP_FILTERS:
            return self.values[0]
        return None


NO_FILTERS = Filters()


@dataclass(frozen=True)
class Totals:
    visitors: int
    visits: int
    pageviews: int
    events: int
    views_per_visit: float
    bounce_rate: float
    visit_duration: float
    visitors_exact: bool


@dataclass(frozen=True)
class Point:
    day: dt.date
    visitors: int
    visits: int
    pageviews: int
    bounce_rate: float
    visit_duration: float


@dataclass(frozen=True)
class Row:
    value: str
    visitors: int
    visits: int
    pageviews: int
    events: int
    bounce_rate: float
    visit_duration: float


@dataclass(frozen=True)
class Dashboard:
    site: str
    period: Period
    filters: Filters
    totals: Totals
    previous: Totals | None
    series: list[Point]
    breakdowns: dict[str, list[Row]]
    realtime_visitors: int
    source: str


def _share(part: float, whole: int, scale: float = 1.0) -> float:
    return round(part * scale / whole, 2) if whole else 0.0


def make_totals(visitors: int, counts: Counts, exact: bool) -> Totals:
    pageviews, events, visits, bounces, duration_us = counts
    return Totals(
        visitors, visits, pageviews, events, _share(pageviews, visits),
        _share(bounces, visits, 100), _share(duration_us, visits, 1e-6), exact,
    )  # fmt: skip


def make_point(day: dt.date, visitors: int, counts: Counts) -> Point:
    pageviews, _, visits, bounces, duration_us = counts
    return Point(
        day, visitors, visits, pageviews, _share(bounces, visits, 100),
        _share(duration_us, visits, 1e-6),
    )  # fmt: skip


def make_row(value: str, visitors: int, counts: Counts) -> Row:
    pageviews, events, visits, bounces, duration_us = counts
    return Row(
        value, visitors, visits, pageviews, events, _share(bounces, visits, 100),
        _share(duration_us, visits, 1e-6),
    )  # fmt: skip


def ranked(rows: list[Row]) -> list[Row]:
    return sorted(rows, key=lambda row: (-row.visitors, row.value))
