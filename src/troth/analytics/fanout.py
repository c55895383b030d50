"""The rollups and sketch updates of a day's final visits, computed from their columns.

A final visit counts in every filtered slice it is in (its source, country and device, and
each page it viewed) times every row it adds to (its visit dimensions, entry and exit pages,
each page viewed and each custom event): about 70 keys a visit. For each pair of a filter
dimension and a row dimension, numpy builds the product of the visits' slices and rows,
sorts it by key and sums it; Python only walks the distinct keys (a few per visit once a
day's traffic repeats itself) and hands each key its visitors for the sketch.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from troth.analytics.columns import (
    VisitColumns,
    Vocabulary,
    unfiltered_counts,
    value_rows,
    value_visitors,
)
from troth.analytics.visits import ROLLUP_FILTERS, ROW_DIMENSIONS, Counts, Key

SubKey = tuple[str, str, str, str]
"""(filter_dim, filter_value, dimension, value): a key within one day."""
ROWS = ("", *ROW_DIMENSIONS)
"""The dimensions of the rows a visit adds to ("" is its unfiltered total)."""
Array = npt.NDArray[Any]
PIECE = 2_000_000
"""Pair rows built at a time (a busy site's page × page product can be far larger): keeps
the arrays of one piece to about 100 MB."""


@dataclass
class Fanned:
    counts: dict[Key, Counts]
    visitors: list[tuple[dt.date, SubKey, list[str]]]
    """Every key's visitors, for the sketches."""


@dataclass
class _Rows:
    """One dimension's rows, in visit order, and where each visit's rows begin."""

    code: Array
    visit: Array
    weights: list[Array]
    """Page views, events, bounces, duration: a row counts one visit."""
    start: Array
    count: Array


def unfiltered(block: VisitColumns, visitors: Sequence[str], words: Vocabulary) -> Fanned:
    """The unfiltered counts and visitors of one day's visits (`visitors`: each visit's key):
    what a day's job, a visit final on a built day and a recompute add for final visits."""
    if not len(block):
        return Fanned({}, [])
    found = value_visitors(block, visitors, words.strings)
    return Fanned(
        unfiltered_counts(block, words),
        [(block.day, ("", "", dimension, value), keys) for dimension, value, keys in found],
    )


def fan_out(block: VisitColumns, visitors: Sequence[str], words: Vocabulary) -> Iterator[Fanned]:
    """The pair counts and visitors of one day's visits (`visitors`: each visit's key), one
    (filter dimension, row dimension) at a time."""
    if not len(block):
        return
    rows = {dimension: _rows(block, dimension) for dimension in ROWS}
    for fdim in ROLLUP_FILTERS:
        fcode, fvisit = _slices(block, fdim)
        for dimension, found in rows.items():
            pieces = [
                _product(block.day, fdim, fcode[a:b], fvisit[a:b], dimension, found, visitors,
                         words)
                for a, b in _pieces(found.count[fvisit])
            ]  # fmt: skip
            fanned = _joined(pieces) if len(pieces) > 1 else pieces[0] if pieces else None
            if fanned is not None and fanned.visitors:
                yield fanned


def _pieces(repeats: Array) -> list[tuple[int, int]]:
    """Runs of slices whose products hold about PIECE rows each."""
    if not len(repeats):
        return []
    ends = np.cumsum(repeats)
    cuts = np.searchsorted(ends, np.arange(PIECE, int(ends[-1]), PIECE)).tolist()
    bounds = [0, *cuts, len(repeats)]
    return [(a, b) for a, b in itertools.pairwise(bounds) if b > a]


def _joined(pieces: Sequence[Fanned]) -> Fanned:
    """The pieces of one product as one (a key can be in several)."""
    counts: dict[Key, Counts] = {}
    visitors: dict[tuple[dt.date, SubKey], list[str]] = {}
    for piece in pieces:
        for key, more in piece.counts.items():
            had = counts.get(key)
            counts[key] = more if had is None else (
                had[0] + more[0], had[1] + more[1], had[2] + more[2], had[3] + more[3],
                had[4] + more[4],
            )  # fmt: skip
        for day, sub, who in piece.visitors:
            visitors.setdefault((day, sub), []).extend(who)
    return Fanned(counts, [(day, sub, who) for (day, sub), who in visitors.items()])


def _rows(block: VisitColumns, dimension: str) -> _Rows:
    weights: list[Array]
    if dimension == "":
        every = np.arange(len(block), dtype=np.int64)
        code, visit = np.zeros(len(block), dtype=np.int64), every
        weights = [block.pageviews, block.events, block.bounces, block.duration_us]
    else:
        code, visit, weights = value_rows(block, dimension)
    order = np.argsort(visit, kind="stable")  # entries are stored in visit order already
    count = np.bincount(visit, minlength=len(block))
    return _Rows(
        code[order].astype(np.int64), visit[order].astype(np.int64),
        [w[order].astype(np.int64) for w in weights], np.cumsum(count) - count, count,
    )  # fmt: skip


def _slices(block: VisitColumns, fdim: str) -> tuple[Array, Array]:
    """(filter value code, visit) of each slice a visit is in for this filter dimension."""
    if fdim == "page":
        return block.pages.code.astype(np.int64), block.pages.visit.astype(np.int64)
    codes = block.coded[fdim].astype(np.int64)
    present = np.flatnonzero(codes >= 0)
    return codes[present], present


def _product(
    day: dt.date, fdim: str, fcode: Array, fvisit: Array, dimension: str, rows: _Rows,
    visitors: Sequence[str], words: Vocabulary,
) -> Fanned:  # fmt: skip
    repeats = rows.count[fvisit]
    total = int(repeats.sum())
    if not total:
        return Fanned({}, [])
    # Each slice of a visit meets each of that visit's rows: rows start..start+count.
    ends = np.cumsum(repeats)
    row = np.repeat(rows.start[fvisit] - (ends - repeats), repeats) + np.arange(total)
    strings = words.strings
    width = len(strings) + 1
    keys = np.repeat(fcode, repeats) * width + rows.code[row]
    order = np.argsort(keys, kind="stable")
    keys, row = keys[order], row[order]
    heads = np.concatenate(([0], np.flatnonzero(np.diff(keys)) + 1))
    pageviews, events, bounces, duration = (np.add.reduceat(w[row], heads) for w in rows.weights)
    tails = [*heads[1:].tolist(), total]
    who = [visitors[n] for n in rows.visit[row].tolist()]
    counts: dict[Key, Counts] = {}
    found: list[tuple[dt.date, SubKey, list[str]]] = []
    distinct = zip(
        keys[heads].tolist(), heads.tolist(), tails, pageviews.tolist(), events.tolist(),
        bounces.tolist(), duration.tolist(), strict=True,
    )  # fmt: skip
    for key, head, tail, views, done, bounced, spent in distinct:
        fvalue = strings[key // width]
        value = strings[key % width] if dimension else ""
        counts[(day, fdim, fvalue, dimension, value)] = (views, done, tail - head, bounced, spent)
        found.append((day, (fdim, fvalue, dimension, value), who[head:tail]))
    return Fanned(counts, found)
