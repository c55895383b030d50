"""CO5: a batch assigned by sorting it gives the visits that assigning it event by event gives.

Events in time order (as most batches are) are split into visits the same way by both: the
sorted path only builds differently (final-on-arrival visits straight into columns), so
every final visit must come out with the same figures, pages, events and values.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.analytics.support import row
from troth.analytics import sorted_batch
from troth.analytics.columns import CODED, VisitColumns, Vocabulary, from_visits
from troth.analytics.sessions import SiteVisits
from troth.analytics.visits import Visit

T0 = dt.datetime(2026, 4, 1, 22, 0, tzinfo=dt.UTC)  # a stream crosses midnight
FAR = T0 + dt.timedelta(days=30)
PAGES = ["/", "/a", "/b" * 200]  # the last one is cut to the longest value kept
KINDS = ["pageview", "pageview", "event", "outbound"]

event = st.tuples(
    st.integers(0, 4),  # visitor
    st.integers(0, 6 * 3600),  # seconds after T0, often the same second
    st.sampled_from(KINDS),
    st.integers(0, 2),  # page
    st.sampled_from(["", "google.com"]),  # referrer
    st.sampled_from(["signup", "share"]),
)


def stream(specs: list[tuple[int, int, str, int, str, str]]) -> list[dict[str, Any]]:
    return [
        row(f"v{who}", T0 + dt.timedelta(seconds=s), PAGES[page], kind=kind, referrer=ref,
            name=name if kind == "event" else "", country=["FR", "DE"][who % 2])
        for who, s, kind, page, ref, name in sorted(specs, key=lambda spec: spec[1])
    ]  # fmt: skip


def visit_rows(block: VisitColumns, strings: list[str]) -> list[tuple[Any, ...]]:
    """Each visit of a block as plain values (its id left out), its pages and events sorted."""
    pages: dict[int, list[tuple[str, int, int]]] = defaultdict(list)
    fields = (getattr(block.pages, f).tolist() for f in ("visit", "code", "first", "second"))
    for at, code, views, events in zip(*fields, strict=True):
        pages[at].append((strings[code], views, events))
    custom: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for at, code, count in zip(block.custom.visit.tolist(), block.custom.code.tolist(),
                               block.custom.first.tolist(), strict=True):  # fmt: skip
        custom[at].append((strings[code], count))
    text = {name: [strings[c] if c >= 0 else None for c in block.coded[name].tolist()]
            for name in CODED}  # fmt: skip
    return [
        (block.day, block.visitor[n], block.pageviews[n], block.events[n], block.bounces[n],
         block.duration_us[n], *(text[name][n] for name in CODED), sorted(pages[n]),
         sorted(custom[n]))
        for n in range(len(block))
    ]  # fmt: skip


def of_visits(visits: Iterable[Visit]) -> list[tuple[Any, ...]]:
    by_day: dict[dt.date, list[Visit]] = defaultdict(list)
    for visit in visits:
        by_day[visit.day].append(visit)
    found = []
    for day, held in by_day.items():
        words = Vocabulary()
        found += visit_rows(from_visits(day, held, words), words.strings)
    return found


def event_by_event(batches: list[list[dict[str, Any]]]) -> tuple[list[Any], list[set[int]]]:
    site = SiteVisits(epoch=1, flushed_before=T0 - dt.timedelta(days=1))
    arrival, final = itertools.count(), []
    for batch in batches:
        for r in batch:
            r["visit_id"] = site.add(r, (r["ts"], next(arrival))).visit_id
        final += site.flush(max(r["ts"] for r in batch))
    final += site.flush(FAR)
    return sorted(of_visits(final), key=repr), partition(batches)


def sorted_path(batches: list[list[dict[str, Any]]]) -> tuple[list[Any], list[set[int]]]:
    site = SiteVisits(epoch=1, flushed_before=T0 - dt.timedelta(days=1))
    ids, arrival, found = itertools.count(1), 0, []
    for batch in batches:
        got = assign(site, batch, arrival, lambda: next(ids))
        arrival += len(batch)
        events_of = Counter(r["visit_id"] for r in batch)
        for block in got.blocks:
            found += visit_rows(block.columns, block.words.strings)
            assert_uses_every_string(block.columns, block.words.strings)
            # Each visit's id is the one its events were given, and all of them are in it.
            given = block.columns.visit_id.tolist()
            assert [events_of[i] for i in given] == block.columns.events.tolist()
        found += of_visits(site.flush(got.newest))
    found += of_visits(site.flush(FAR))
    return sorted(found, key=repr), partition(batches)


def assert_uses_every_string(block: VisitColumns, strings: list[str]) -> None:
    """A block's vocabulary holds the strings its visits use and no other (not the paths of
    events outside them, nor of another day's visits)."""
    used = {c for codes in block.coded.values() for c in codes.tolist() if c >= 0}
    used |= set(block.pages.code.tolist()) | set(block.custom.code.tolist())
    assert used == set(range(len(strings)))


def assign(
    site: SiteVisits, rows: list[dict[str, Any]], first_arrival: int, new_id: Callable[[], int]
) -> sorted_batch.Assigned:
    stamps = [r["ts"] for r in rows]
    found = sorted_batch.Assigned(max(stamps), min(stamps))
    return sorted_batch.assign(site, rows, stamps, first_arrival, new_id, found)


def partition(batches: list[list[dict[str, Any]]]) -> list[set[int]]:
    """Which events share a visit, by their place in the stream."""
    members: dict[int, set[int]] = defaultdict(set)
    for n, r in enumerate(r for batch in batches for r in batch):
        members[r["visit_id"]].add(n)
    return sorted(members.values(), key=min)


@settings(max_examples=150, deadline=None)
@given(st.lists(event, min_size=1, max_size=80), st.lists(st.integers(1, 79), max_size=3))
def test_co5_a_sorted_batch_gives_the_visits_event_by_event_gives(
    specs: list[tuple[int, int, str, int, str, str]], cuts: list[int]
) -> None:
    """In one batch or several (so later batches join visits still open), in time order."""
    events = stream(specs)
    bounds = [0, *sorted({c for c in cuts if c < len(events)}), len(events)]
    batches = [events[a:b] for a, b in itertools.pairwise(bounds)]
    one = event_by_event([[dict(r) for r in b] for b in batches])
    other = sorted_path([[dict(r) for r in b] for b in batches])
    assert other == one


def test_co5_a_batch_of_whole_visits_builds_no_visit_objects() -> None:
    """Visits that begin and end inside their batch go to columns; the open one stays held."""
    events = stream([(0, 0, "pageview", 0, "", ""), (0, 60, "event", 1, "", "signup"),
                     (1, 120, "pageview", 2, "google.com", ""),
                     (2, 4 * 3600, "pageview", 1, "", "")])  # fmt: skip
    site = SiteVisits(epoch=1, flushed_before=T0 - dt.timedelta(days=1))
    ids = iter(range(1, 9))
    got = assign(site, events, 0, ids.__next__)
    assert [len(block.columns) for block in got.blocks] == [2]
    assert list(site.by_visitor) == ["v2"]  # 4 hours later: still open
    assert [visit.visitor_key for visit in site.opened] == ["v2"]  # the others: columns only
    first = got.blocks[0]
    assert first.visitors == ["v0", "v1"]
    assert first.columns.pageviews.tolist() == [1, 1]
    assert first.columns.events.tolist() == [2, 1]
    assert first.columns.bounces.tolist() == [0, 1]
    assert first.columns.duration_us.tolist() == [60_000_000, 0]
    assert len({r["visit_id"] for r in events}) == 3


def test_co5_thirty_minutes_apart_starts_a_new_visit_in_a_sorted_batch() -> None:
    gap = 30 * 60
    events = stream([(0, 0, "pageview", 0, "", ""), (0, gap, "pageview", 1, "", ""),
                     (1, 0, "pageview", 0, "", ""), (1, gap - 1, "pageview", 1, "", ""),
                     (3, 5 * 3600, "pageview", 0, "", "")])  # fmt: skip
    site = SiteVisits(epoch=1, flushed_before=T0 - dt.timedelta(days=1))
    assign(site, events, 0, iter(range(1, 9)).__next__)
    ids = {(r["visitor_key"], r["path"]): r["visit_id"] for r in events}
    assert ids[("v0", "/")] != ids[("v0", "/a")]
    assert ids[("v1", "/")] == ids[("v1", "/a")]


def test_co5_values_that_are_equal_but_read_differently_stay_apart() -> None:
    """A path of 1 and one of True are one dict key but two texts, as the event-by-event path
    reads them."""
    events = stream([(0, 0, "pageview", 0, "", ""), (0, 60, "pageview", 0, "", ""),
                     (1, 4 * 3600, "pageview", 0, "", "")])  # fmt: skip
    events[0]["path"], events[1]["path"] = 1, True
    site = SiteVisits(epoch=1, flushed_before=T0 - dt.timedelta(days=1))
    ids = iter(range(1, 9))
    got = assign(site, events, 0, ids.__next__)
    (block,) = got.blocks
    pages = sorted(block.words.strings[c] for c in block.columns.pages.code.tolist())
    assert pages == ["1", "True"]
