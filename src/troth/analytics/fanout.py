"""The pair rollups and sketch updates of many final visits at once, computed in arrays.

A final visit counts in every filtered slice it matches (its source, country and device, and
each page it viewed) times every row it adds to: about 70 keys a visit. Built key by key in
Python that product cost about 5 µs a key, most of a batch's time. Here the product, the
grouping and the sums run in numpy; Python only walks the distinct keys (a few per visit
once a day's traffic repeats itself) and feeds each key's visitors to its sketch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from troth.analytics.visits import Counts, Key

SubKey = tuple[str, str, str, str]
"""(filter_dim, filter_value, dimension, value): a key within one day."""
UNFILTERED = ("", "")
CHUNK = 20_000
"""Visits per array pass: keeps the product's arrays to tens of megabytes."""


@dataclass(frozen=True)
class Final:
    """What a final visit adds: its unfiltered rows, and the filtered slices it is in."""

    day: dt.date
    visitor: str
    own: Sequence[tuple[str, str, Counts]]
    slices: Sequence[tuple[str, str]]


@dataclass
class Fanned:
    counts: dict[Key, Counts]
    """Filtered keys only: the unfiltered counts are kept batch by batch elsewhere."""
    visitors: list[tuple[dt.date, SubKey, list[str]]]
    """Every key's visitors (the unfiltered keys included), for the sketches."""


def fan_out(visits: Sequence[Final]) -> Iterator[Fanned]:
    for start in range(0, len(visits), CHUNK):
        yield _fan_out(visits[start : start + CHUNK])


def _fan_out(visits: Sequence[Final]) -> Fanned:
    rows: dict[tuple[str, str], int] = {}
    slices: dict[tuple[dt.date, str, str], int] = {}
    own_visit: list[int] = []
    own_code: list[int] = []
    own_counts: list[Counts] = []
    slice_visit: list[int] = []
    slice_code: list[int] = []
    for index, visit in enumerate(visits):
        for dim, value, figures in visit.own:
            own_visit.append(index)
            own_code.append(rows.setdefault((dim, value), len(rows)))
            own_counts.append(figures)
        for fdim, fvalue in (UNFILTERED, *visit.slices):
            slice_visit.append(index)
            slice_code.append(slices.setdefault((visit.day, fdim, fvalue), len(slices)))
    if not own_visit:
        return Fanned({}, [])

    lengths = np.bincount(np.asarray(own_visit), minlength=len(visits))
    starts = np.cumsum(lengths) - lengths
    by_visit = np.asarray(slice_visit)
    repeats = lengths[by_visit]
    # Each slice of a visit meets each of that visit's own rows: row indexes start..start+n.
    offsets = np.repeat(starts[by_visit] - (np.cumsum(repeats) - repeats), repeats)
    own_index = offsets + np.arange(int(repeats.sum()))
    keys = np.repeat(np.asarray(slice_code, dtype=np.int64), repeats) * len(rows)
    keys += np.asarray(own_code, dtype=np.int64)[own_index]

    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    heads = np.concatenate(([0], np.flatnonzero(np.diff(keys)) + 1))
    sums = np.add.reduceat(np.asarray(own_counts, dtype=np.int64)[own_index[order]], heads)
    ends = [*heads[1:].tolist(), len(keys)]
    names = [visit.visitor for visit in visits]
    who = [names[i] for i in np.repeat(by_visit, repeats)[order].tolist()]

    slice_of, row_of = list(slices), list(rows)
    counts: dict[Key, Counts] = {}
    visitors: list[tuple[dt.date, SubKey, list[str]]] = []
    distinct = zip(keys[heads].tolist(), heads.tolist(), ends, sums.tolist(), strict=True)
    for key, head, end, figures in distinct:
        day, fdim, fvalue = slice_of[key // len(rows)]
        dim, value = row_of[key % len(rows)]
        if fdim:
            counts[(day, fdim, fvalue, dim, value)] = tuple(figures)
        visitors.append((day, (fdim, fvalue, dim, value), who[head:end]))
    return Fanned(counts, visitors)
