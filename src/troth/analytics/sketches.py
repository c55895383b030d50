"""Unique visitors: Apache DataSketches HyperLogLog per rollup key, merged over a period.

lg_k 16 for totals (dimension ""): a merged estimate is within 0.41 % (one standard error),
so within 1 % at about 2.5 standard errors (lg_k 14 measured +1.47 % over 30 days at 1M
events); lg_k 12 for breakdown rows (1.6 %), which keeps the many small per-value sketches
light. While a sketch holds few keys it is in list or set mode,
where it stores the keys' hashes themselves: a merge still in that mode is reported as exact.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import datasketches as ds

from troth.analytics.fanout import Fanned, SubKey

LG_TOTAL = 16
LG_ROW = 12
TARGET = ds.tgt_hll_type.HLL_8


def lg_k(dimension: str) -> int:
    return LG_TOTAL if dimension == "" else LG_ROW


def empty(dimension: str) -> ds.hll_sketch:
    return ds.hll_sketch(lg_k(dimension), TARGET)


def of(dimension: str, visitors: Iterable[str]) -> bytes:
    """A sketch of these visitors, serialized."""
    sketch = empty(dimension)
    for visitor in visitors:
        sketch.update(visitor)
    return dump(sketch)


def load(data: bytes) -> ds.hll_sketch:
    return ds.hll_sketch.deserialize(data)


def dump(sketch: ds.hll_sketch) -> bytes:
    data: bytes = sketch.serialize_compact()
    return data


class Merge:
    """A union over days (and over the open visits read from raw events)."""

    def __init__(self, dimension: str) -> None:
        self._union = ds.hll_union(lg_k(dimension))
        self._dimension = dimension
        self._extra: ds.hll_sketch | None = None

    def add_bytes(self, data: bytes) -> None:
        self._union.update(load(data))

    def add_sketch(self, sketch: ds.hll_sketch) -> None:
        self._union.update(sketch)

    def sketch(self) -> ds.hll_sketch:
        """The union so far (visitors added with `add_visitors` not included)."""
        return self._union.get_result(TARGET)

    def add_visitors(self, keys: Iterable[str]) -> None:
        if self._extra is None:
            self._extra = empty(self._dimension)
        for key in keys:
            self._extra.update(key)

    def visitors(self) -> int:
        """The estimate alone (cheaper than `result`, which also tells whether it is exact)."""
        if self._extra is not None:
            self._union.update(self._extra)
            self._extra = None
        estimate: float = self._union.get_estimate()
        return round(estimate)

    def result(self) -> tuple[int, bool]:
        if self._extra is not None:
            self._union.update(self._extra)
            self._extra = None
        return estimate(self._union.get_result())


def estimate(sketch: ds.hll_sketch) -> tuple[int, bool]:
    """(visitors, exact): exact while the sketch is still in list or set mode."""
    if sketch.is_empty():
        return 0, True
    summary: str = sketch.to_string(summary=True)
    exact = "Current Mode   : HLL" not in summary
    return round(sketch.get_estimate()), exact


class DaySketches:
    """One day's sketches of some keys, read once, updated in memory, and written together."""

    def __init__(self, site: str, day: dt.date, stored: dict[SubKey, bytes]) -> None:
        self.site, self.day = site, day
        self.sketches = {sub: load(data) for sub, data in stored.items()}
        self.touched: set[SubKey] = set()

    def add(self, fanned: Fanned) -> None:
        """Count final visits' visitors in the sketches of their keys (one block's: all of
        this day)."""
        for _, sub, visitors in fanned.visitors:
            sketch = self.sketches.get(sub)
            if sketch is None:
                sketch = self.sketches[sub] = empty(sub[2])
            for visitor in visitors:
                sketch.update(visitor)
            self.touched.add(sub)

    def take_touched(self) -> list[tuple[str, dt.date, SubKey, bytes]]:
        out = [(self.site, self.day, sub, dump(self.sketches[sub])) for sub in self.touched]
        self.touched.clear()
        return out
