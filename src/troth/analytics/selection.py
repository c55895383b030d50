"""Filters the rollups do not hold, answered from visit columns (`columns.py`).

Settled days come as stored blocks (`column_days.py`); the days still moving are their
final visits' waiting blocks (`recent.py`) and their open visits replayed from events, turned
into blocks the same way. Each block is cut to the visits matching every filter (a mask),
and only those are held. Totals, the series and each breakdown are then sums and distinct
counts over them: one sort per breakdown, no loop per visit.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from troth.analytics import column_days, pair_days, recent, repository, scan
from troth.analytics.columns import (
    CODED,
    VisitColumns,
    Vocabulary,
    concat,
    exact_sums,
    from_visits,
    subset,
    sums,
    totals,
    value_rows,
)
from troth.analytics.figures import (
    Filters,
    Period,
    Point,
    Row,
    Totals,
    make_point,
    make_row,
    make_totals,
)  # fmt: skip
from troth.analytics.models import SiteState
from troth.analytics.raw import RawVisit, day_start
from troth.analytics.visits import Counts, utc

Mask = npt.NDArray[np.bool_]
Array = npt.NDArray[Any]
_Column = Callable[[VisitColumns], Array]
Grouped = tuple[Array, Array, list[Array]]
"""(value code, visitor, [pageviews, events, bounces, duration]) per row a breakdown counts."""
NOTHING: Grouped = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), [])
ZERO: Counts = (0, 0, 0, 0, 0)
WEIGHTS = ("pageviews", "events", "bounces", "duration_us")


def select_visits(session: Session, site: str, period: Period, filters: Filters) -> Selection:
    """The visits starting within the period that match every filter."""
    state = repository.read_state(session, site)
    settled = utc(state.open_since).date() if state is not None else period.start
    words = column_days.vocabulary(session, site)
    chosen: list[VisitColumns] = []
    if period.start < settled:
        end = min(period.end, settled - dt.timedelta(days=1))
        days = Period(period.start, end).each_day()
        for block in column_days.blocks(session, site, days, words):
            chosen.append(matching(block, filters, words))
    if period.end >= settled:
        moving = Period(max(period.start, settled), period.end)
        waiting = _whole_waiting_days(session, state, moving)
        chosen += _waiting_and_open(session, state, waiting, filters, words)
        for day in moving.each_day():
            if day not in waiting:
                found = scan.load(session, site, Period(day, day), filters)
                if found:
                    chosen.append(from_visits(day, found, words))
    chosen.sort(key=lambda block: block.day)
    return Selection(chosen, words)


def _whole_waiting_days(session: Session, state: SiteState | None, moving: Period) -> list[dt.date]:
    """The moving days whose final visits are all in waiting blocks: not built (an event
    that came late can make a built day move again) and not moving already when this version
    was installed (their earlier visits went to pair rows)."""
    if state is None:
        return []
    since = utc(state.blocks_since) if state.blocks_since is not None else None
    days = [d for d in moving.each_day() if since is None or since <= day_start(d)]
    built = pair_days.built_days(session, state.site, days)
    return [day for day in days if day not in built]


def _waiting_and_open(
    session: Session, state: SiteState | None, days: list[dt.date], filters: Filters,
    words: Vocabulary,
) -> list[VisitColumns]:  # fmt: skip
    """These days' visits: the final ones from their waiting blocks (kept in memory between
    views), the open ones replayed from their events. One block a day."""
    if state is None or not days:
        return []
    by_day: dict[dt.date, list[VisitColumns]] = defaultdict(list)
    for block in recent.blocks(session, state.site, min(days), max(days), words):
        if block.day in days:
            by_day[block.day].append(matching(block.columns, filters, words))
    opened: dict[dt.date, list[RawVisit]] = defaultdict(list)
    span = Period(min(days), max(days))
    for found in scan.open_visits(session, state, state.site, span, filters):
        if found.day in days:
            opened[found.day].append(found)
    for day, visits in opened.items():
        by_day[day].append(from_visits(day, visits, words))
    return [concat(found) for _, found in sorted(by_day.items())]


def matching(block: VisitColumns, filters: Filters, words: Vocabulary) -> VisitColumns:
    """The block's visits that match every filter: only those are held for the answers."""
    return subset(block, np.flatnonzero(mask(block, filters, words)))


def mask(block: VisitColumns, filters: Filters, words: Vocabulary) -> Mask:
    mask = np.ones(len(block), dtype=np.bool_)
    for dimension, value in filters.values:
        code = words.find(value)
        if code is None:
            return np.zeros(len(block), dtype=np.bool_)
        if dimension in ("page", "event"):
            entries = block.pages if dimension == "page" else block.custom
            hit = np.zeros(len(block), dtype=np.bool_)
            hit[entries.visit[entries.code == code]] = True
            mask &= hit
        else:
            mask &= block.coded[dimension] == code
    return mask


class Selection:
    """Visits already chosen (blocks holding only the visits that match), and their figures."""

    def __init__(self, blocks: Sequence[VisitColumns], words: Vocabulary):
        self.words = words
        self.blocks = list(blocks)
        starts = np.cumsum([0, *(len(block) for block in self.blocks)])
        self.starts = [int(n) for n in starts[:-1]]
        """Where each block's visits begin in the joined columns."""
        self.visitor_ids, self.visitor = np.unique(
            self._joined(lambda b: b.visitor), return_inverse=True
        )
        self.visitor = self.visitor.reshape(-1)
        """Each visit's visitor, numbered 0.. in this selection."""

    def _joined(self, column: _Column) -> Array:
        parts = [column(block) for block in self.blocks]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def visit_ids(self) -> set[int]:
        return {int(n) for n in self._joined(lambda b: b.visit_id)}

    @functools.cached_property
    def weights(self) -> list[Array]:
        """Pageviews, events, bounces and duration of each selected visit."""
        return [self._joined(operator.attrgetter(name)) for name in WEIGHTS]

    def totals(self) -> Totals:
        return make_totals(len(self.visitor_ids), sums(*self.weights), True)

    def series(self, period: Period) -> list[Point]:
        found: dict[dt.date, tuple[int, Counts]] = {}
        for block in self.blocks:
            visitors = len(np.unique(block.visitor))
            found[block.day] = visitors, totals(block)
        return [make_point(day, *found.get(day, (0, ZERO))) for day in period.each_day()]

    def breakdown(self, dimension: str, limit: int, offset: int = 0) -> list[Row]:
        """The rows ranked as `figures.ranked` ranks them, from offset, at most limit."""
        codes, visitor, weights = self._grouped(dimension)
        if not len(codes):
            return []
        found = np.bincount(codes)
        values = np.flatnonzero(found)
        dense = np.zeros(len(found), dtype=np.int64)
        dense[values] = np.arange(len(values))
        codes, visits, size = dense[codes], found[values], len(values)
        # Distinct (value, visitor) pairs, counted per value: one sort, no gathers.
        people = max(1, len(self.visitor_ids))
        pairs = np.sort(codes * people + visitor)
        first = pairs[np.r_[True, pairs[1:] != pairs[:-1]]]
        visitors = np.bincount(first // people, minlength=size)
        sums = [exact_sums(codes, w, size) for w in weights]
        wanted = offset + limit
        if len(values) > wanted:  # only the values that can rank high enough are sorted
            floor = np.partition(visitors, len(visitors) - wanted)[len(visitors) - wanted]
            keep = np.flatnonzero(visitors >= floor)
        else:
            keep = np.arange(len(values))
        strings = self.words.strings
        ranked = sorted(keep.tolist(), key=lambda n: (-int(visitors[n]), strings[values[n]]))
        return [
            make_row(strings[values[n]], int(visitors[n]), (
                int(sums[0][n]), int(sums[1][n]), int(visits[n]), int(sums[2][n]),
                int(sums[3][n]),
            ))
            for n in ranked[offset:wanted]
        ]  # fmt: skip

    def _grouped(self, dimension: str) -> Grouped:
        if dimension in CODED:
            codes = self._joined(lambda b: b.coded[dimension])
            keep = codes >= 0
            return codes[keep], self.visitor[keep], [w[keep] for w in self.weights]
        if dimension not in ("page", "event"):
            return NOTHING
        parts: list[Grouped] = []
        for block, start in zip(self.blocks, self.starts, strict=True):
            codes, visit, weights = value_rows(block, dimension)
            parts.append((codes, self.visitor[start + visit.astype(np.int64)], weights))
        if not parts:
            return NOTHING
        return (
            np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
            [np.concatenate([p[2][n] for p in parts]) for n in range(4)],
        )  # fmt: skip
