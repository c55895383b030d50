"""One day's visits as numpy columns: what any filter is answered from.

A visit is one row: its id, a 64-bit hash of its visitor key, a code per visit dimension
(the entry and exit pages too, -1 when the visit has no pageview) and its counts. Pages
viewed and custom events are kept beside it as (visit row, code, counts) entries, since a
visit has several. Strings are coded through a `Vocabulary`: one per block when stored, one
per site in memory, so blocks of many days line up and a filter compares integers.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from hashlib import blake2b
from itertools import chain
from typing import Any, Protocol

import lz4.frame
import numpy as np
import numpy.typing as npt

from troth.analytics.raw import RawVisit
from troth.analytics.visits import ROW_DIMENSIONS, VISIT_DIMENSIONS, ColumnRow, Counts, Key

CODED = (*VISIT_DIMENSIONS, "entry_page", "exit_page")
MISSING = -1
Ints = npt.NDArray[np.int64]
Codes = npt.NDArray[np.int32]
Flags = npt.NDArray[np.int8]
Rows = tuple[npt.NDArray[Any], npt.NDArray[Any], list[npt.NDArray[Any]]]
"""(value code, visit row, [pageviews, events, bounces, duration]) per row a value counts."""


class Vocabulary:
    """Strings and their codes, in the order first seen.

    Shared by the request threads of a process: whoever adds strings holds `lock`.
    """

    def __init__(self, strings: Iterable[str] = ()) -> None:
        self.strings: list[str] = []
        self._codes: dict[str, int] = {}
        self.lock = threading.RLock()
        for text in strings:
            self.code(text)

    def code(self, text: str) -> int:
        found = self._codes.get(text)
        if found is None:
            found = self._codes[text] = len(self.strings)
            self.strings.append(text)
        return found

    def find(self, text: str) -> int | None:
        return self._codes.get(text)

    def recoder(self, strings: Sequence[str]) -> Codes:
        """Maps codes of another vocabulary to this one's; index -1 (missing) stays -1."""
        with self.lock:
            return np.array([*(self.code(s) for s in strings), MISSING], dtype=np.int32)


@dataclass
class Entries:
    """Several (code, counts) per visit: pages viewed, or custom events."""

    visit: Codes
    code: Codes
    first: Codes
    """Page views of that page, or that event's count."""
    second: Codes
    """Events on that page (pages only; zeros for custom events)."""

    @property
    def nbytes(self) -> int:
        return sum(int(a.nbytes) for a in (self.visit, self.code, self.first, self.second))


@dataclass
class VisitColumns:
    day: dt.date
    visit_id: Ints
    visitor: Ints
    coded: dict[str, Codes]
    pageviews: Codes
    events: Codes
    bounces: Flags
    duration_us: Ints
    pages: Entries
    custom: Entries

    def __len__(self) -> int:
        return len(self.visit_id)

    @property
    def nbytes(self) -> int:
        arrays: list[npt.NDArray[Any]] = [
            self.visit_id, self.visitor, self.pageviews, self.events, self.bounces,
            self.duration_us, *self.coded.values(),
        ]  # fmt: skip
        return sum(int(a.nbytes) for a in arrays) + self.pages.nbytes + self.custom.nbytes


def value_rows(columns: VisitColumns, dimension: str) -> Rows:
    """Each row a breakdown by `dimension` counts: its value's code, its visit, and its
    page views, events, bounces and duration (a visit counts once per page it viewed and
    per custom event it had; the entry and exit pages, once or not at all)."""
    if dimension in CODED:
        codes = columns.coded[dimension]
        rows = np.flatnonzero(codes >= 0)
        weights: list[npt.NDArray[Any]] = [
            columns.pageviews, columns.events, columns.bounces, columns.duration_us
        ]  # fmt: skip
        return codes[rows], rows, [w[rows] for w in weights]
    if dimension == "page":
        pages, at = columns.pages, columns.pages.visit
        weights = [pages.first, pages.second, columns.bounces[at], columns.duration_us[at]]
        return pages.code, at, weights
    if dimension == "event":
        custom = columns.custom
        none = np.zeros(len(custom.visit), dtype=np.int32)
        return custom.code, custom.visit, [none, custom.first, none, none]
    empty = np.zeros(0, dtype=np.int64)
    return empty, empty, []


def value_counts(
    columns: VisitColumns, dimension: str, strings: Sequence[str]
) -> dict[str, Counts]:
    """Every value of the dimension these visits have, with its summed counts."""
    codes, _, weights = value_rows(columns, dimension)
    if not len(codes):
        return {}
    present, dense = np.unique(codes, return_inverse=True)
    dense = dense.reshape(-1)
    sums = [exact_sums(dense, w, len(present)).tolist() for w in weights]
    visits = np.bincount(dense, minlength=len(present)).tolist()
    return {
        strings[code]: (sums[0][n], sums[1][n], visits[n], sums[2][n], sums[3][n])
        for n, code in enumerate(present.tolist())
    }


def sums(
    pageviews: npt.NDArray[Any], events: npt.NDArray[Any], bounces: npt.NDArray[Any],
    duration: npt.NDArray[Any],
) -> Counts:  # fmt: skip
    """The counts of the visits these arrays (one entry a visit) hold."""
    return (
        int(pageviews.sum(dtype=np.int64)), int(events.sum(dtype=np.int64)), len(pageviews),
        int(bounces.sum(dtype=np.int64)), int(duration.sum(dtype=np.int64)),
    )  # fmt: skip


def totals(columns: VisitColumns) -> Counts:
    return sums(columns.pageviews, columns.events, columns.bounces, columns.duration_us)


def unfiltered_counts(columns: VisitColumns, words: Vocabulary) -> dict[Key, Counts]:
    """The unfiltered rollup figures of these visits (one day's): the totals and every row."""
    if not len(columns):
        return {}
    day = columns.day
    found: dict[Key, Counts] = {(day, "", "", "", ""): totals(columns)}
    for dimension in ROW_DIMENSIONS:
        for value, counts in value_counts(columns, dimension, words.strings).items():
            found[(day, "", "", dimension, value)] = counts
    return found


def value_visitors(
    columns: VisitColumns, visitors: Sequence[str], strings: Sequence[str]
) -> Iterator[tuple[str, str, list[str]]]:
    """(dimension, value, the visitor of each visit in that row) for the totals and every row
    of these visits (`visitors`: each visit's key), grouped in numpy."""
    yield "", "", list(visitors)
    for dimension in ROW_DIMENSIONS:
        codes, rows, _ = value_rows(columns, dimension)
        if not len(codes):
            continue
        order = np.argsort(codes, kind="stable")
        codes, rows = codes[order], rows[order]
        starts = [0, *(np.flatnonzero(np.diff(codes)) + 1).tolist()]
        ends = [*starts[1:], len(codes)]
        keys = [visitors[row] for row in rows.tolist()]
        for code, start, end in zip(codes[starts].tolist(), starts, ends, strict=True):
            yield dimension, strings[code], keys[start:end]


def exact_sums(codes: npt.NDArray[Any], weights: npt.NDArray[Any], size: int) -> Ints:
    """Per code, the sum of its weights. bincount adds in floating point (exact below 2**53):
    counts are far below it; durations are summed as their low 26 bits and the rest apart,
    exact for up to 2**27 rows of values under 2**40 (twelve days, in microseconds)."""
    if weights.dtype != np.int64:
        return np.bincount(codes, weights=weights, minlength=size).astype(np.int64)
    low = np.bincount(codes, weights=weights & 0x3FF_FFFF, minlength=size)
    high = np.bincount(codes, weights=weights >> 26, minlength=size)
    return (high.astype(np.int64) << 26) + low.astype(np.int64)


def subset(block: VisitColumns, rows: npt.NDArray[np.int64]) -> VisitColumns:
    """The chosen visits of a block (rows in increasing order), with their entries."""
    if len(rows) == len(block):
        return block
    position = np.full(len(block), -1, dtype=np.int32)
    position[rows] = np.arange(len(rows), dtype=np.int32)

    def entries(found: Entries) -> Entries:
        at = position[found.visit]
        kept = at >= 0
        return Entries(at[kept], found.code[kept], found.first[kept], found.second[kept])

    return VisitColumns(
        block.day, block.visit_id[rows], block.visitor[rows],
        {name: codes[rows] for name, codes in block.coded.items()},
        block.pageviews[rows], block.events[rows], block.bounces[rows], block.duration_us[rows],
        entries(block.pages), entries(block.custom),
    )  # fmt: skip


class ColumnVisit(Protocol):
    """What a visit must give to become a row: a final `Visit` or a `RawVisit`."""

    visitor_key: str
    page_views: dict[str, int]
    page_events: dict[str, int]
    custom: dict[str, int]

    def column_row(self) -> ColumnRow:
        """Its visit id, visitor key, page views, events, bounces, duration (µs), entry and
        exit pages, and its value of each visit dimension (in the order of
        `VISIT_DIMENSIONS`)."""
        ...


def from_visits(
    day: dt.date, visits: Sequence[ColumnVisit], vocabulary: Vocabulary
) -> VisitColumns:
    """The visits of one day (each must start that day) as columns coded by `vocabulary`."""
    with vocabulary.lock:
        return _from_visits(day, visits, vocabulary.code)


def _from_visits(
    day: dt.date, visits: Sequence[ColumnVisit], code: Callable[[str], int]
) -> VisitColumns:
    # Column by column, each distinct string coded once: a visit at a time cost a third more.
    # One call per visit gives its whole row, transposed once (a generator per column and a
    # property per figure cost twice as much, at every watermark).
    if visits:
        ids, keys, views, events, bounces, durations, entries, exits, values = zip(
            *[visit.column_row() for visit in visits], strict=True
        )  # fmt: skip
        found: Iterable[Sequence[str | None]] = zip(*values, strict=True)
    else:
        ids = keys = views = events = bounces = durations = entries = exits = ()
        found = [()] * len(VISIT_DIMENSIONS)
    coded = dict(zip(VISIT_DIMENSIONS, (to_codes(column, code) for column in found), strict=True))
    coded["entry_page"] = to_codes(entries, code)
    coded["exit_page"] = to_codes(exits, code)
    viewed = [visit.page_views for visit in visits]
    counted = [visit.custom for visit in visits]
    paths = list(chain.from_iterable(viewed))
    names = list(chain.from_iterable(counted))
    on_page = list(chain.from_iterable(
        map(visit.page_events.__getitem__, visit.page_views) for visit in visits
    ))  # fmt: skip
    return VisitColumns(
        day,
        np.array(ids, dtype=np.int64),
        visitor_hashes(keys),
        coded,
        np.array(views, dtype=np.int32),
        np.array(events, dtype=np.int32),
        np.array(bounces, dtype=np.int8),
        np.array(durations, dtype=np.int64),
        Entries(
            _repeated(viewed), to_codes(paths, code),
            _ints(list(chain.from_iterable(v.values() for v in viewed))), _ints(on_page),
        ),
        Entries(
            _repeated(counted), to_codes(names, code),
            _ints(list(chain.from_iterable(c.values() for c in counted))),
            np.zeros(len(names), dtype=np.int32),
        ),
    )  # fmt: skip


def visitor_hashes(keys: Sequence[str]) -> Ints:
    """A 64-bit hash of each visitor key (the first 8 bytes of BLAKE2b, little-endian)."""
    joined = b"".join([blake2b(key.encode(), digest_size=8).digest() for key in keys])
    return np.frombuffer(joined, dtype="<i8").astype(np.int64)


def _repeated(entries: list[dict[str, int]]) -> Codes:
    """Each visit's row number, once per entry it has."""
    return np.repeat(np.arange(len(entries), dtype=np.int32), [len(e) for e in entries])


def to_codes(values: Sequence[str | None], code: Callable[[str], int]) -> Codes:
    """Each value's code (`code` gives a string's, asked once per distinct string); MISSING for
    None."""
    index: dict[str | None, int] = {v: code(v) for v in dict.fromkeys(values) if v is not None}
    index[None] = MISSING
    return np.fromiter(map(index.__getitem__, values), dtype=np.int32, count=len(values))


def _ints(values: list[int]) -> Codes:
    return np.array(values, dtype=np.int32)


def recoded(block: VisitColumns, strings: Sequence[str], into: Vocabulary) -> VisitColumns:
    """A block coded by the places of `strings`, coded by `into` instead."""
    recode = into.recoder(strings)
    return VisitColumns(
        block.day, block.visit_id, block.visitor,
        {name: recode[codes] for name, codes in block.coded.items()},
        block.pageviews, block.events, block.bounces, block.duration_us,
        Entries(block.pages.visit, recode[block.pages.code], block.pages.first,
                block.pages.second),
        Entries(block.custom.visit, recode[block.custom.code], block.custom.first,
                block.custom.second),
    )  # fmt: skip


def concat(blocks: Sequence[VisitColumns]) -> VisitColumns:
    """Blocks of one day, coded by one vocabulary, as one block (their visits in order)."""
    starts = np.cumsum([0, *(len(block) for block in blocks)])[:-1]

    def entries(kind: str) -> Entries:
        found: list[Entries] = [getattr(block, kind) for block in blocks]
        return Entries(
            np.concatenate([e.visit + np.int32(n) for e, n in zip(found, starts, strict=True)]),
            *(np.concatenate([getattr(e, f) for e in found]) for f in _FIELDS[1:]),
        )  # fmt: skip

    def joined(name: str) -> Any:
        return np.concatenate([getattr(block, name) for block in blocks])

    return VisitColumns(
        blocks[0].day, joined("visit_id"), joined("visitor"),
        {name: np.concatenate([b.coded[name] for b in blocks]) for name in CODED},
        joined("pageviews"), joined("events"), joined("bounces"), joined("duration_us"),
        entries("pages"), entries("custom"),
    )  # fmt: skip


# Stored form: a format mark, then each array in the .npy format in a fixed order (the block's
# own strings last), LZ4-compressed: it decompresses ten times faster than zlib, and a month's
# first filtered view reads 30 blocks.

FORMAT = b"TVC1"
_FLAT = ("visit_id", "visitor", "pageviews", "events", "bounces", "duration_us")
_FIELDS = ("visit", "code", "first", "second")
_NAMES = (
    *_FLAT, *(f"coded_{name}" for name in CODED),
    *(f"{kind}_{field}" for kind in ("pages", "custom") for field in _FIELDS), "strings",
)  # fmt: skip


def encode(day: dt.date, visits: Sequence[RawVisit]) -> bytes:
    vocabulary = Vocabulary()
    return encode_block(from_visits(day, visits, vocabulary), vocabulary)


def encode_block(block: VisitColumns, vocabulary: Vocabulary) -> bytes:
    """A block coded by `vocabulary`, in the stored form (with the strings it uses)."""
    arrays: dict[str, npt.NDArray[Any]] = {name: getattr(block, name) for name in _FLAT}
    arrays |= {f"coded_{name}": codes for name, codes in block.coded.items()}
    for kind in ("pages", "custom"):
        entries: Entries = getattr(block, kind)
        arrays |= {f"{kind}_{field}": getattr(entries, field) for field in _FIELDS}
    arrays["strings"] = np.frombuffer(json.dumps(vocabulary.strings).encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    for name in _NAMES:
        np.lib.format.write_array(buffer, arrays[name], allow_pickle=False)
    return FORMAT + bytes(lz4.frame.compress(buffer.getvalue()))


def readable(data: bytes) -> bool:
    """Whether a stored block is in the format this version writes (else it is built again)."""
    return data[: len(FORMAT)] == FORMAT


def decode(day: dt.date, data: bytes, vocabulary: Vocabulary) -> VisitColumns:
    """A stored block, its codes translated into `vocabulary`."""
    stream = io.BytesIO(lz4.frame.decompress(data[len(FORMAT) :]))
    arrays = {name: np.lib.format.read_array(stream, allow_pickle=False) for name in _NAMES}
    strings = json.loads(arrays.pop("strings").tobytes())

    def entries(kind: str) -> Entries:
        return Entries(*(arrays[f"{kind}_{field}"] for field in _FIELDS))

    stored = VisitColumns(
        day, arrays["visit_id"], arrays["visitor"],
        {name: arrays[f"coded_{name}"] for name in CODED},
        arrays["pageviews"], arrays["events"], arrays["bounces"], arrays["duration_us"],
        entries("pages"), entries("custom"),
    )  # fmt: skip
    return recoded(stored, strings, vocabulary)
