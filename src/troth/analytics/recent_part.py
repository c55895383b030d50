"""The final visits not yet in their day's rollups (`recent.py`) that match a filter, as the
counts and sketches a rollup answer adds to its own.

A stored block never changes (a day's blocks are replaced by new ones), so what a filter
makes of it is kept with the block: its matching visits, their counts per value and the
sketches of their visitors, built as views ask for them. A repeat view reads only what the
blocks written since add.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any

import datasketches as ds
import numpy as np
import numpy.typing as npt

from troth.analytics import sketches
from troth.analytics.columns import Vocabulary, subset, totals, value_counts, value_rows
from troth.analytics.figures import Filters
from troth.analytics.recent import Block
from troth.analytics.selection import mask
from troth.analytics.visits import Counts

VIEWS_PER_BLOCK = 16
"""Filters whose view of a block is kept with it (the oldest goes first)."""
_lock = threading.Lock()


class BlockView:
    """One block's visits that match one filter."""

    def __init__(self, block: Block, filters: Filters, words: Vocabulary) -> None:
        rows = np.flatnonzero(mask(block.columns, filters, words))
        self.day = block.day
        self.words = words
        self.columns = subset(block.columns, rows)
        self.visitors = [block.visitors[n] for n in rows.tolist()]
        self.counts: Counts = totals(self.columns)
        self._sketch: ds.hll_sketch | None = None
        self._values: dict[str, dict[str, Counts]] = {}
        self._value_sketches: dict[tuple[str, str], ds.hll_sketch | None] = {}
        self._rows: tuple[str, npt.NDArray[Any], npt.NDArray[Any]] | None = None
        """The last dimension's (codes, rows): a breakdown asks for twenty values or more of
        one dimension in a row. One only: they cost some 12 bytes a visit each."""
        self._keys: npt.NDArray[np.object_] | None = None

    def sketch(self) -> ds.hll_sketch:
        if self._sketch is None:
            self._sketch = _sketch_of("", self.visitors)
        return self._sketch

    def values(self, dimension: str) -> dict[str, Counts]:
        """Every value of the dimension these visits have, with its summed counts."""
        found = self._values.get(dimension)
        if found is None:
            found = self._values[dimension] = value_counts(
                self.columns, dimension, self.words.strings
            )
        return found

    def value_sketch(self, dimension: str, value: str) -> ds.hll_sketch | None:
        """The visitors behind one value (None when these visits do not have it)."""
        key = (dimension, value)
        if key not in self._value_sketches:
            code = self.words.find(value)
            found = self._rows  # read once: request threads share the view
            if found is None or found[0] != dimension:
                codes, rows, _ = value_rows(self.columns, dimension)
                found = self._rows = (dimension, codes, rows)
            _, codes, rows = found
            if self._keys is None:
                self._keys = np.array(self.visitors, dtype=object)
            hit = rows[codes == code] if code is not None else rows[:0]
            keys = self._keys[hit]
            self._value_sketches[key] = _sketch_of(dimension, keys) if len(keys) else None
        return self._value_sketches[key]


def views(found: Sequence[Block], filters: Filters, words: Vocabulary) -> list[BlockView]:
    """What each block holds that matches the filter (blocks with no such visit left out)."""
    return [view for view in (_view(b, filters, words) for b in found) if view.counts[2]]


def _view(block: Block, filters: Filters, words: Vocabulary) -> BlockView:
    view = block.views.get(filters)
    if isinstance(view, BlockView):
        return view
    view = BlockView(block, filters, words)
    with _lock:  # request threads share the blocks
        if len(block.views) >= VIEWS_PER_BLOCK:
            block.views.pop(next(iter(block.views)))
        block.views[filters] = view
    return view


def _sketch_of(dimension: str, visitors: Iterable[str]) -> ds.hll_sketch:
    sketch = sketches.empty(dimension)
    for key in visitors:
        sketch.update(key)
    return sketch
