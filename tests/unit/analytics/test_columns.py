"""CO5: a day's visits as columns, stored and read back under another process's vocabulary."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from hashlib import blake2b

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.analytics.support import contribution, rows
from troth.analytics.columns import (
    CODED,
    MISSING,
    VisitColumns,
    Vocabulary,
    decode,
    encode,
    from_visits,
    unfiltered_counts,
    value_visitors,
)
from troth.analytics.figures import DIMENSIONS, Filters, Period
from troth.analytics.raw import RawVisit, as_raw, rows_of, series_of, totals_of
from troth.analytics.selection import Selection, matching
from troth.analytics.sessions import SiteVisits
from troth.analytics.visits import Key, accumulate, as_counts

DAY = dt.date(2026, 2, 3)
BASE = {"source": "Direct / None", "utm_source": "", "utm_medium": "", "utm_campaign": "",
        "browser": "Firefox", "os": "Linux", "device": "desktop", "language": "en",
        "country": "FR"}  # fmt: skip


def visit(n: int, visitor: str, pages: dict[str, int], custom: dict[str, int] | None = None,
          **values: str) -> RawVisit:  # fmt: skip
    found = RawVisit(n, visitor, DAY, {**BASE, **values}, sum(pages.values()),
                     sum(pages.values()) + sum((custom or {}).values()), 1_000_000 * n)  # fmt: skip
    if pages:
        found.values["entry_page"], found.values["exit_page"] = min(pages), max(pages)
    found.page_views, found.page_events = dict(pages), {p: c + 1 for p, c in pages.items()}
    found.custom = dict(custom or {})
    return found


VISITS = [
    visit(1, "a", {"/": 1}),
    visit(2, "a", {"/": 2, "/pricing": 1}, {"signup": 1}, browser="Chrome"),
    visit(3, "b", {"/docs": 1}, country="DE", source="google.com"),
    visit(4, "c", {}, {"download": 2}, country="DE"),
    visit(5, "d", {"/pricing": 3}, browser="Chrome", country="DE", source="google.com"),
]


def test_co5_a_stored_block_reads_back_under_another_vocabulary() -> None:
    data = encode(DAY, VISITS)
    other = Vocabulary(["unrelated", "/pricing", "DE"])  # this process saw other strings first
    block = decode(DAY, data, other)
    fresh = from_visits(DAY, VISITS, Vocabulary())
    assert len(block) == len(fresh) == 5
    assert [other.strings[c] for c in block.coded["country"]] == ["FR", "FR", "DE", "DE", "DE"]
    assert block.coded["entry_page"][3] == MISSING  # no pageview: no entry page
    assert other.strings[block.pages.code[0]] == "/"
    for name in ("visit_id", "visitor", "pageviews", "events", "bounces", "duration_us"):
        assert np.array_equal(getattr(block, name), getattr(fresh, name)), name
    assert set(block.coded) == set(CODED)


def test_co5_selection_answers_equal_raw_figures_for_any_filter() -> None:
    words = Vocabulary(["noise"])
    block = decode(DAY, encode(DAY, VISITS), words)
    period = Period(DAY - dt.timedelta(days=1), DAY)
    for filters in (
        Filters(), Filters((("browser", "Chrome"),)), Filters((("country", "DE"),)),
        Filters((("page", "/pricing"),)), Filters((("event", "download"),)),
        Filters((("country", "DE"), ("source", "google.com"))),
        Filters((("browser", "Opera"),)), Filters((("utm_campaign", ""),)),
    ):  # fmt: skip
        chosen = [v for v in VISITS if all(v.matches(d, x) for d, x in filters.values)]
        selection = Selection([matching(block, filters, words)], words)
        assert selection.totals() == totals_of(chosen), filters
        assert selection.series(period) == series_of(chosen, period), filters
        assert selection.visit_ids() == {v.visit_id for v in chosen}
        for dimension in DIMENSIONS:
            assert selection.breakdown(dimension, 100) == rows_of(chosen, dimension), dimension


def assert_same_block(one: VisitColumns, other: VisitColumns) -> None:
    for name in ("visit_id", "visitor", "pageviews", "events", "bounces", "duration_us"):
        assert getattr(one, name).tolist() == getattr(other, name).tolist(), name
    for name in CODED:
        assert one.coded[name].tolist() == other.coded[name].tolist(), name
    for kind in ("pages", "custom"):
        for field in ("visit", "code", "first", "second"):
            found = getattr(getattr(one, kind), field).tolist()
            assert found == getattr(getattr(other, kind), field).tolist(), (kind, field)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c"]),  # visitor
            st.floats(min_value=0, max_value=600),  # minutes after 08:00
            st.sampled_from(["/", "/a", "/b"]),
            st.sampled_from(["pageview", "event", "engagement"]),
            st.sampled_from(["signup", "share"]),
            st.sampled_from(["", "google.com"]),
            st.sampled_from(["FR", "DE"]),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_co5_a_blocks_counts_and_visitors_equal_its_visits_figures_one_by_one(
    events: list[tuple[str, float, str, str, str, str, str]],
) -> None:
    """What a day's job adds from a block's columns (`unfiltered_counts`, `value_visitors`)
    equals each final visit's own rows (`contribution`, `rows`); a block built from the
    ingester's visits equals one built from the same visits as the raw path reads them."""
    start = dt.datetime(DAY.year, DAY.month, DAY.day, 8, tzinfo=dt.UTC)
    site = SiteVisits(epoch=1, flushed_before=start)
    for n, (who, minutes, path, kind, name, referrer, country) in enumerate(events):
        ts = start + dt.timedelta(minutes=minutes)
        event = {"visitor_key": who, "ts": ts, "path": path, "kind": kind, "name": name,
                 "referrer_host": referrer, "country": country}  # fmt: skip
        site.add(event, (ts, n))
    visits = [v for same in site.by_visitor.values() for v in same]
    words = Vocabulary()
    block = from_visits(DAY, visits, words)
    assert_same_block(block, from_visits(DAY, [as_raw(v) for v in visits], words))
    assert block.visitor.tolist() == [
        int.from_bytes(blake2b(v.visitor_key.encode(), digest_size=8).digest(), "little",
                       signed=True)
        for v in visits
    ]  # fmt: skip
    expected: dict[Key, list[int]] = {}
    for one in visits:
        accumulate(expected, contribution(one).items())
    assert unfiltered_counts(block, words) == {k: as_counts(c) for k, c in expected.items()}
    keys = [v.visitor_key for v in visits]
    grouped: dict[tuple[str, str], list[str]] = defaultdict(list)
    for dimension, value, found_keys in value_visitors(block, keys, words.strings):
        grouped[(dimension, value)] += found_keys
    wanted: dict[tuple[str, str], list[str]] = defaultdict(list)
    for one in visits:
        for dimension, value, _ in rows(one):
            wanted[(dimension, value)].append(one.visitor_key)
    assert {k: sorted(v) for k, v in grouped.items()} == {k: sorted(v) for k, v in wanted.items()}
