"""A slice's rollups over a run of days, read in few queries, and kept for settled days.

A period splits at the site's settled day (`SiteState.open_since`): days before it hold no
open visit, so their counts and sketches change only when a late event arrives (the site's
`revision` goes up) or a day is recomputed (its `epoch` changes). Their parts are kept in
memory under a key holding both, so the dashboard reads only the days still moving.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import datasketches as ds
from sqlalchemy.orm import Session

from troth.analytics import repository
from troth.analytics.kept import Kept
from troth.analytics.sketches import Merge
from troth.analytics.visits import Counts

Slice = tuple[str, str]
ZERO: Counts = (0, 0, 0, 0, 0)
KEPT = 512
"""Parts kept per process (least recently used go first)..."""
BUDGET = 256 * 1024 * 1024
"""...and at most about this many bytes of them: a 30-day totals part alone holds 30 daily
sketches of up to 64 KB each."""
ENTRY_BYTES = 200
"""About what one counts entry costs in memory (key strings, tuple, dict slot)."""


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

    def size(self) -> int:
        sketches = [*self.day_visitors.values(), self.visitors]
        return ENTRY_BYTES * len(self.daily) + sum(_bytes(s) for s in sketches)


@dataclass
class Values:
    counts: dict[str, dict[str, Counts]]
    """dimension -> value -> counts."""
    sketches: dict[tuple[str, str], ds.hll_sketch | None] = field(default_factory=dict)
    """(dimension, value) -> its visitors over the days, filled as values are asked for."""
    key: tuple[Hashable, ...] | None = None
    """Where it is kept (its size is counted again as sketches are added)."""

    def size(self) -> int:
        entries = sum(len(found) for found in self.counts.values()) + len(self.sketches)
        return ENTRY_BYTES * entries + sum(_bytes(s) for s in self.sketches.values())


def _bytes(sketch: ds.hll_sketch | None) -> int:
    return 0 if sketch is None else int(sketch.get_compact_serialization_bytes())


_kept = Kept(BUDGET, KEPT)


def forget() -> None:
    _kept.clear()


def held() -> tuple[int, int]:
    """(parts, bytes) this process keeps."""
    return _kept.held()


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
        _kept.put(key, part, part.size())
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
        part.key = key
        _kept.put(key, part, part.size())
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
    if part.key is not None and _kept.get(part.key) is part:
        _kept.put(part.key, part, part.size())
