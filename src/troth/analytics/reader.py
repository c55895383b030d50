"""Answers from rollups and sketches for one site, slice and period (one dashboard's reads).

The period is read as up to two parts (`parts.py`): settled days, kept in memory between
requests, and the days still moving, read each time. Counts and sketches hold final visits
only, so the still-open visits (the last half hour or so) are read from raw events and added
in, and so are the final visits of days whose rollups are not built yet
(`recent_part.py`).
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy.orm import Session

from troth.analytics import column_days, parts, raw, recent, repository, scan, sessions
from troth.analytics.figures import (
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
from troth.analytics.models import SiteState
from troth.analytics.parts import ZERO, Days, Slice, add
from troth.analytics.recent_part import BlockView, views
from troth.analytics.sketches import Merge
from troth.analytics.visits import Counts, utc

DAY = dt.timedelta(days=1)
MIN_CANDIDATES = 20
"""Values whose visitors are estimated for a breakdown: the most visited, at least this many."""


def _split(
    session: Session, state: SiteState | None, site: str, slice_: Slice, period: Period
) -> list[Days]:
    if state is None:
        return [Days(site, slice_, period.start, period.end)]
    settled = utc(state.open_since).date()
    version = (sessions.database_of(session), state.epoch, state.revision)
    found = []
    if period.start < settled:
        end = min(period.end, settled - dt.timedelta(days=1))
        found.append(Days(site, slice_, period.start, end, version))
    if period.end >= settled:
        found.append(Days(site, slice_, max(period.start, settled), period.end))
    return found


def _recent(
    session: Session, state: SiteState | None, site: str, slice_: Slice, period: Period,
    filters: Filters,
) -> list[BlockView]:  # fmt: skip
    """Final visits whose days' rollups are not built yet (but for the unfiltered rollups of
    days before `unfiltered_from`, which hold them already)."""
    words = column_days.vocabulary(session, site)
    found = recent.blocks(session, site, period.start, period.end, words)
    if slice_ == ("", ""):
        found = [block for block in found if repository.unfiltered_by_job(state, block.day)]
    return views(found, filters, words)


class Reader:
    def __init__(
        self, session: Session, site: str, slice_: Slice, period: Period, filters: Filters
    ) -> None:
        self.session, self.slice_, self.period = session, slice_, period
        state = repository.read_state(session, site)
        self.days = _split(session, state, site, slice_, period)
        self.open = scan.open_visits(session, state, site, period, filters)
        # Open visits are in no counts yet (but in the unfiltered ones of a site stored by a
        # version that counted them, until its ingester takes them out); nor are the final
        # visits of days whose rollups are not built yet.
        counted = state is not None and state.open_counted and slice_ == ("", "")
        self.unsaved = [] if counted else self.open
        self.recent = _recent(session, state, site, slice_, period, filters)
        self._totals: dict[Days, parts.Totals] = {}

    def _part(self, days: Days) -> parts.Totals:
        """Read once for totals and series alike (the moving days are not kept in memory)."""
        found = self._totals.get(days)
        if found is None:
            found = self._totals[days] = parts.totals(self.session, days)
        return found

    def totals(self) -> Totals:
        counts, merge = ZERO, Merge("")
        for days in self.days:
            part = self._part(days)
            for day_counts in part.daily.values():
                counts = add(counts, day_counts)
            if part.visitors is not None:
                merge.add_sketch(part.visitors)
        for visit in self.unsaved:
            counts = add(counts, visit.counts())
        for view in self.recent:
            counts = add(counts, view.counts)
            merge.add_sketch(view.sketch())
        merge.add_visitors({visit.visitor_key for visit in self.open})
        visitors, exact = merge.result()
        return make_totals(visitors, counts, exact)

    def series(self) -> list[Point]:
        counts: dict[dt.date, Counts] = {}
        merges: dict[dt.date, Merge] = defaultdict(lambda: Merge(""))
        for days in self.days:
            part = self._part(days)
            counts.update(part.daily)
            for day, sketch in part.day_visitors.items():
                merges[day].add_sketch(sketch)
        for visit in self.unsaved:
            counts[visit.day] = add(counts.get(visit.day, ZERO), visit.counts())
        for view in self.recent:
            counts[view.day] = add(counts.get(view.day, ZERO), view.counts)
            merges[view.day].add_sketch(view.sketch())
        for visit in self.open:
            merges[visit.day].add_visitors([visit.visitor_key])
        return [
            make_point(day, merges[day].visitors() if day in merges else 0,
                       counts.get(day, ZERO))
            for day in self.period.each_day()
        ]  # fmt: skip

    def breakdowns(
        self, dimensions: Sequence[str], limit: int, offset: int = 0
    ) -> dict[str, list[Row]]:
        loaded = [(days, parts.values(self.session, days, dimensions)) for days in self.days]
        counts: dict[str, dict[str, Counts]] = {}
        opened = {dimension: raw.groups(self.open, dimension) for dimension in dimensions}
        wanted_rows = max(MIN_CANDIDATES, 2 * (offset + limit))
        for dimension in dimensions:
            # The settled part is the big one: copied whole, the smaller ones added to it.
            found = [part.counts.get(dimension, {}) for _, part in loaded]
            if self.unsaved:
                found.append({v: c for v, (_, c) in opened[dimension].items()})
            found += [view.values(dimension) for view in self.recent]
            found.sort(key=len, reverse=True)
            merged = dict(found[0])
            for smaller in found[1:]:
                for value, more in smaller.items():
                    merged[value] = add(merged.get(value, ZERO), more)
            most = heapq.nsmallest(
                wanted_rows, ((-c[2], v) for v, c in merged.items() if c[2] > 0)
            )
            counts[dimension] = {value: merged[value] for _, value in most}
        wanted = {dimension: list(found) for dimension, found in counts.items()}
        for days, part in loaded:
            parts.value_sketches(self.session, days, part, wanted)
        result: dict[str, list[Row]] = {}
        for dimension, candidates in counts.items():
            merges = {value: Merge(dimension) for value in candidates}
            for _, part in loaded:
                for value, merge in merges.items():
                    sketch = part.sketches.get((dimension, value))
                    if sketch is not None:
                        merge.add_sketch(sketch)
            for value, (keys, _) in opened[dimension].items():
                if value in merges:
                    merges[value].add_visitors(keys)
            for view in self.recent:
                for value, merge in merges.items():
                    sketch = view.value_sketch(dimension, value)
                    if sketch is not None:
                        merge.add_sketch(sketch)
            rows = [make_row(v, merges[v].visitors(), c) for v, c in candidates.items()]
            result[dimension] = ranked(rows)[offset : offset + limit]
        return result
