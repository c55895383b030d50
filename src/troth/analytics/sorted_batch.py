"""A batch's visits found by sorting it: each visitor's events in time order, a new visit
wherever 30 minutes or more pass between two of them.

Most of a large batch (an ingester catching up, an import, a busy minute) is visits that
start and end inside it. Those never become `Visit` objects: their figures are summed in
numpy and go straight into a day's columns (`FinalBlock`), the form the watermark's write
stores. Only the visits that join one already open, or that are still open after the
batch, are built event by event, as `SiteVisits.add` builds them.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from troth.analytics.columns import (
    MISSING,
    Entries,
    VisitColumns,
    Vocabulary,
    to_codes,
    visitor_hashes,
)
from troth.analytics.models import MAX_VALUE
from troth.analytics.raw import EARLIEST
from troth.analytics.visits import (
    CUSTOM,
    MICROSECOND,
    PAGEVIEW,
    VISIT_DIMENSIONS,
    Visit,
    visit_values,
)

if TYPE_CHECKING:
    from troth.analytics.sessions import SiteVisits

Ints = npt.NDArray[np.int64]
GAP = dt.timedelta(minutes=30)
"""A visit ends after this long without an event."""
GAP_US = GAP // MICROSECOND
DAY_US = dt.timedelta(days=1) // MICROSECOND


@dataclass
class FinalBlock:
    """Visits of one day that began and ended inside the batch that brought them: columns
    coded by their own vocabulary, and each visit's visitor key."""

    columns: VisitColumns
    words: Vocabulary
    visitors: list[str]


@dataclass
class Assigned:
    """What one site's batch gave: its newest and earliest times, the settled days it
    changed, whether a visit it finished ends before the stored watermark, and the blocks of
    its visits that were final on arrival (the other final ones are `Visit`s that
    `SiteVisits.flush` hands over)."""

    newest: dt.datetime
    earliest: dt.datetime
    late: set[dt.date] = field(default_factory=set)
    behind: bool = False
    blocks: list[FinalBlock] = field(default_factory=list)


def micros_since_1970(moment: dt.datetime) -> int:
    return (moment - EARLIEST) // MICROSECOND


_FIELDS = ("visitor_key", "kind", "path")


def _fields(rows: Sequence[dict[str, Any]]) -> list[list[Any]]:
    """The rows' visitor keys, kinds and paths, a list each."""
    try:
        return [list(map(operator.itemgetter(name), rows)) for name in _FIELDS]
    except KeyError:  # a row without one of them: it reads as missing
        return [[row.get(name) for row in rows] for name in _FIELDS]


def assign(
    known: SiteVisits, rows: Sequence[dict[str, Any]], stamps: list[dt.datetime],
    first_arrival: int, new_id: Callable[[], int], found: Assigned,
) -> Assigned:  # fmt: skip
    """Give one site's events (`stamps`: their UTC times; arrival numbers from
    `first_arrival` on, in row order) their visits; build the visits final on arrival as
    columns and hold the others in `known`. `found` holds the batch's newest and earliest
    times; it is filled in and returned."""
    n = len(rows)
    since = map(operator.sub, stamps, repeat(EARLIEST))
    at = np.array(list(map(operator.floordiv, since, repeat(MICROSECOND))), dtype=np.int64)
    keys, kinds, paths = _fields(rows)
    visitor_of, visitors = _factorize(keys, str)
    # Stable: events of one visitor at the same microsecond keep their arrival order.
    order = np.lexsort((at, visitor_of))
    by_visitor, at_sorted = visitor_of[order], at[order]
    starts_here = np.ones(n, dtype=bool)
    starts_here[1:] = by_visitor[1:] != by_visitor[:-1]
    starts_here[1:] |= at_sorted[1:] - at_sorted[:-1] >= GAP_US
    starts = np.flatnonzero(starts_here)
    ends = np.append(starts[1:], n)
    watermark = micros_since_1970(max(known.flushed_before, found.newest - GAP))
    settled, stored = micros_since_1970(known.settled_at), micros_since_1970(known.stored_before)
    first_at, last_at = at_sorted[starts], at_sorted[ends - 1]
    segment_visitor = by_visitor[starts]

    visit_of_segment = np.zeros(len(starts), dtype=np.int64)
    fast = last_at < watermark  # final on arrival, unless it joins an open visit
    held = known.by_visitor
    order_list = order.tolist()
    for s in _held_or_open(fast, segment_visitor, visitors, held):
        begin, end = int(starts[s]), int(ends[s])
        first, last = stamps[order_list[begin]], stamps[order_list[end - 1]]
        visit = _joins(held.get(visitors[segment_visitor[s]]), first, last)
        if visit is None and fast[s]:
            continue  # no open visit near it: final on arrival after all
        fast[s] = False
        if visit is not None and visit.first[0] < known.settled_at:
            found.late.add(visit.day)  # the day it leaves, if an earlier event moves it
        for i in order_list[begin:end]:
            if visit is None:
                visit = Visit.open(new_id(), rows[i], (stamps[i], first_arrival + i))
                known.keep(visit)
            visit.add(rows[i], (stamps[i], first_arrival + i))
        assert visit is not None
        visit_of_segment[s] = visit.visit_id
        if visit.first[0] < known.settled_at:
            found.late.add(visit.day)

    final = np.flatnonzero(fast)
    visit_of_segment[final] = [new_id() for _ in range(len(final))]
    per_row = np.empty(n, dtype=np.int64)
    per_row[order] = np.repeat(visit_of_segment, ends - starts)
    for row, visit_id in zip(rows, per_row.tolist(), strict=True):
        row["visit_id"] = visit_id
    if len(final):
        found.behind = bool((last_at[final] < stored).any())
        early = final[first_at[final] < settled]
        found.late.update(_day(int(t)) for t in first_at[early].tolist())
        found.blocks = _blocks(
            rows, (kinds, paths), order, starts, ends, final, first_at, last_at,
            visit_of_segment, (visitors, segment_visitor[final]),
        )  # fmt: skip
    return found


def _day(micros: int) -> dt.date:
    return (EARLIEST + dt.timedelta(microseconds=micros)).date()


def _held_or_open(
    fast: npt.NDArray[np.bool_], segment_visitor: Ints, visitors: list[str],
    held: dict[str, list[Visit]],
) -> list[int]:  # fmt: skip
    """The segments that may not be final on arrival: still open after the batch, or of a
    visitor with an open visit they might join."""
    if held:
        has_open = np.fromiter(
            map(held.__contains__, visitors), dtype=bool, count=len(visitors)
        )[segment_visitor]
        return np.flatnonzero(~fast | has_open).tolist()
    return np.flatnonzero(~fast).tolist()


def _joins(visits: list[Visit] | None, first: dt.datetime, last: dt.datetime) -> Visit | None:
    """The open visit (the latest opened) within 30 minutes of some event of the segment."""
    for visit in reversed(visits or ()):
        if visit.first[0] < last + GAP and first - GAP < visit.last[0]:
            return visit
    return None


def _factorize(
    values: Sequence[Any], text: Callable[[Any], str]
) -> tuple[Ints, list[str]]:  # fmt: skip
    """A code for each value (equal texts, equal codes) and the text of each code."""
    index: dict[Hashable, int] = {}
    try:
        codes = [index.setdefault(v, len(index)) for v in values]
    except TypeError:  # a value that cannot be a dict key: read as text first
        return _factorize([text(v) for v in values], text)
    if any(v.__class__ is not str for v in index):  # 1, 1.0 and True: one key, three texts
        return _factorize([text(v) for v in values], text)
    texts: dict[str, int] = {}
    recode = [texts.setdefault(text(v), len(texts)) for v in index]
    return np.array(recode, dtype=np.int64)[np.array(codes, dtype=np.int64)], list(texts)


def _path(value: Any) -> str:
    if value.__class__ is str and len(value) <= MAX_VALUE:
        return str(value)
    return str(value or "")[:MAX_VALUE]


def _blocks(
    rows: Sequence[dict[str, Any]], fields: tuple[Sequence[Any], ...], order: Ints,
    starts: Ints, ends: Ints, final: Ints, first_at: Ints, last_at: Ints, visit_ids: Ints,
    whose: tuple[list[str], Ints],
) -> list[FinalBlock]:  # fmt: skip
    """The final-on-arrival segments (`final`, in order) as one block per day (`fields`: each
    row's kind and path; `whose`: the batch's visitor keys and each final visit's)."""
    # Each event's segment, and whether that segment is among the final ones.
    segment = np.repeat(np.arange(len(starts), dtype=np.int64), ends - starts)
    position = np.full(len(starts), -1, dtype=np.int64)
    position[final] = np.arange(len(final), dtype=np.int64)
    kept = position[segment] >= 0
    events_of = order[kept]
    visit = position[segment[kept]]  # each kept event's visit, 0.. in the order of `final`
    kind = np.array(fields[0], dtype=object)
    viewed, custom = (kind == PAGEVIEW)[events_of], (kind == CUSTOM)[events_of]
    path_of, paths = _factorize(fields[1], _path)
    path_code = path_of[events_of]
    name_code, names = _factorize([rows[i].get("name") for i in events_of[custom].tolist()], _path)

    count = len(final)
    events = np.bincount(visit, minlength=count).astype(np.int32)
    pageviews = np.bincount(visit, weights=viewed, minlength=count).astype(np.int32)
    customs = np.bincount(visit[custom], minlength=count)
    bounces = ((pageviews == 1) & (customs == 0)).astype(np.int8)
    entry, exit_ = _entry_and_exit(visit, viewed, path_code, count)
    pages = _pairs(visit, path_code, len(paths), viewed)
    had = _pairs(visit[custom], name_code, len(names))

    firsts_of = map(rows.__getitem__, order[starts[final]].tolist())
    by_dimension = list(zip(*map(visit_values, firsts_of), strict=True))
    visitors, visitor_of = whose
    hashes = visitor_hashes(visitors)[visitor_of]
    days = first_at[final] // DAY_US
    durations = last_at[final] - first_at[final]
    blocks: list[FinalBlock] = []
    for day_number in np.unique(days).tolist():
        chosen = np.flatnonzero(days == day_number)
        local = np.full(count, -1, dtype=np.int64)
        local[chosen] = np.arange(len(chosen), dtype=np.int64)
        whole = len(chosen) == count  # a batch within one day: nothing to pick
        picked = chosen.tolist()
        words = Vocabulary()
        coded: dict[str, Any] = {
            name: to_codes(column if whole else [column[i] for i in picked], words.code)
            for name, column in zip(VISIT_DIMENSIONS, by_dimension, strict=True)
        }
        page_rows = np.flatnonzero(local[pages.visit] >= 0)
        custom_rows = np.flatnonzero(local[had.visit] >= 0)
        path_word = _recoder(words, paths, entry[chosen], exit_[chosen], pages.code[page_rows])
        coded["entry_page"] = path_word[entry[chosen]]
        coded["exit_page"] = path_word[exit_[chosen]]
        name_word = _recoder(words, names, had.code[custom_rows])
        blocks.append(FinalBlock(
            VisitColumns(
                _day(day_number * DAY_US), visit_ids[final[chosen]], hashes[chosen], coded,
                pageviews[chosen], events[chosen], bounces[chosen], durations[chosen],
                pages.entries(page_rows, local, path_word),
                had.entries(custom_rows, local, name_word, with_second=False),
            ),
            words, [visitors[v] for v in visitor_of[chosen].tolist()],
        ))  # fmt: skip
    return blocks


def _entry_and_exit(
    visit: Ints, viewed: npt.NDArray[np.bool_], path_code: Ints, count: int
) -> tuple[Ints, Ints]:  # fmt: skip
    """Each visit's first and last page viewed (MISSING without a page view), its events being
    in (visit, time, arrival) order."""
    entry = np.full(count, MISSING, dtype=np.int64)
    exit_ = np.full(count, MISSING, dtype=np.int64)
    view_at = np.flatnonzero(viewed)
    if len(view_at):
        view_visit = visit[view_at]
        firsts = np.ones(len(view_at), dtype=bool)
        firsts[1:] = view_visit[1:] != view_visit[:-1]
        lasts = np.ones(len(view_at), dtype=bool)
        lasts[:-1] = firsts[1:]
        entry[view_visit[firsts]] = path_code[view_at[firsts]]
        exit_[view_visit[lasts]] = path_code[view_at[lasts]]
    return entry, exit_


@dataclass
class _Pairs:
    """(visit, code) pairs with their counts: pages with their views and the events on them,
    or custom events by name."""

    visit: Ints
    code: Ints
    first: Ints
    second: Ints

    def entries(
        self, rows: Ints, local: Ints, word: npt.NDArray[np.int32], with_second: bool = True
    ) -> Entries:
        """The chosen pairs as a block's entries: visits numbered within it, codes recoded."""
        second = self.second[rows] if with_second else np.zeros(len(rows), dtype=np.int64)
        return Entries(
            local[self.visit[rows]].astype(np.int32), word[self.code[rows]],
            self.first[rows].astype(np.int32), second.astype(np.int32),
        )  # fmt: skip


def _pairs(
    visit: Ints, code: Ints, codes: int, viewed: npt.NDArray[np.bool_] | None = None
) -> _Pairs:  # fmt: skip
    """Each (visit, code) these events have and how many. With `viewed`: only pairs with a page
    view, counting the views first and all the events on that page second."""
    wide = np.int64(max(codes, 1))
    keys = visit * wide + code
    found, counts = np.unique(keys, return_counts=True)
    if viewed is None:
        return _Pairs(found // wide, found % wide, counts, counts)
    views = np.zeros(len(found), dtype=np.int64)
    np.add.at(views, np.searchsorted(found, keys[viewed]), 1)
    kept = views > 0
    return _Pairs(found[kept] // wide, found[kept] % wide, views[kept], counts[kept])


def _recoder(words: Vocabulary, strings: list[str], *used: Ints) -> npt.NDArray[np.int32]:
    """Codes in `words` for the batch's strings that these codes use (a day's block holds no
    string of another day's visits); code -1 (none) stays MISSING."""
    mapping = np.full(len(strings) + 1, MISSING, dtype=np.int32)
    present = np.unique(np.concatenate(used))
    present = present[present >= 0]
    mapping[present] = [words.code(strings[c]) for c in present.tolist()]
    return mapping
