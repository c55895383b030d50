"""A slice's rollups over a run of days, read in few queries, and kept for settled days.

A period splits at the site's settled day (`SiteState.open_since`): days before it hold no
open visit, so their counts and sketches change only when a late event arrives (the site's
`revision` goes up) or a day is recomputed (its `epoch` changes). Their parts are kept in
memory under a key holding both, so the dashboard reads only the days still moving.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import datasketches as ds
from sqlalchemy.orm import Session

from troth.analytics import repository
from troth.analytics.sketches import Merge
from troth.analytics.visits import Counts

Slice = tuple[str, str]
ZERO: Counts = (0, 0, 0, 0, 0)
KEPT = 512
"""Parts kept per process (least recently used go first)."""


def add(a: Counts, b: Counts) -> Counts:
    return a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3], a[4] + b[4]


@dataclass(frozen=True)
class Days:
    """Where a part's figures come from: one slice of one site over days start..end."""

    site: str
    slice_: Slice
    start: dt.date
    end: dt.date
    version: Hashable = None
    """(database, epoch, revision) for settled days; None for days still moving (not kept)."""


@dataclass
class Totals:
    daily: dict[dt.date, Counts]
    day_visitors: dict[dt.date, ds.hll_sketch]
    visitors: ds.hll_sketch | None


@dataclass
class Values:
    counts: dict[str, dict[str, Counts]]
    """dimension -> value -> counts."""
    sketches: dict[tuple[str, str], ds.hll_sketch | None] = field(default_factory=dict)
    """(dimension, value) -> its visitors over the days, filled as values are asked for."""


class _Kept:
    def __init__(self) -> None:
        self._items: OrderedDict[tuple[Hashable, ...], object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Hashable, ...]) -> object | None:
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def put(self, key: tuple[Hashable, ...], item: object) -> None:
        with self._lock:
            self._items[key] = item
            while len(self._items) > KEPT:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_kept = _Kept()


def forget() -> None:
    _kept.clear()


def totals(session: Session, days: Days) -> Totals:
    key = ("totals", days)
    found = _kept.get(key) if days.version is not None else None
    if isinstance(found, Totals):
        return found
    per_day: dict[dt.date, Merge] = {}
    whole = Merge("")
    found = repository.sketch_bytes(session, days.site, days.slice_, "", days.start, days.end)
    for day, _, data in found:
        per_day.setdefault(day, Merge("")).add_bytes(data)
        whole.add_bytes(data)
    part = Totals(
        repository.daily_counts(session, days.site, days.slice_, days.start, days.end),
        {day: merge.sketch() for day, merge in per_day.items()},
        whole.sketch() if per_day else None,
    )
    if days.version is not None:
        _kept.put(key, part)
    return part


def values(session: Session, days: Days, dimensions: Sequence[str]) -> Values:
    key = ("values", days, tuple(dimensions))
    found = _kept.get(key) if days.version is not None else None
    if isinstance(found, Values):
        return found
    counts = repository.all_value_counts(
        session, days.site, days.slice_, dimensions, days.start, days.end
    )
    part = Values(counts)
    if days.version is not None:
        _kept.put(key, part)
    return part


def value_sketches(
    session: Session, days: Days, part: Values, wanted: dict[str, list[str]]
) -> None:
    """Load the visitors of the wanted (dimension, value) pairs the part does not hold yet."""
    missing = {
        dim: [v for v in found if (dim, v) not in part.sketches] for dim, found in wanted.items()
    }
    missing = {dim: found for dim, found in missing.items() if found}
    if not missing:
        return
    merges: dict[tuple[str, str], Merge] = {}
    for dim, value, data in repository.value_sketch_bytes(
        session, days.site, days.slice_, missing, days.start, days.end
    ):
        merges.setdefault((dim, value), Merge(dim)).add_bytes(data)
    for dim, found in missing.items():
        for value in found:
            merge = merges.get((dim, value))
            part.sketches[(dim, value)] = merge.sketch() if merge is not None else None
