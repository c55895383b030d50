"""CO5: analytics figures agree with a small fixture counted by hand, on both databases.

Three visitors, five visits, twelve events over two days: a 31-minute gap that starts a new
visit, bounces, a second pageview within a visit, custom events with properties.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from tests.unit.analytics.support import SITE, clean, ingest, row
from troth.analytics import parts, queries, raw, recompute, repository, rollups
from troth.analytics.queries import Filters, Period, Point, Row, Totals
from troth.errors import BadRequest
from troth.runtime import Runtime

DAY1, DAY2 = dt.date(2026, 3, 2), dt.date(2026, 3, 3)
BOTH = Period(DAY1, DAY2)


def at(day: dt.date, hh: int, mm: int) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hh, mm, tzinfo=dt.UTC)


PLACES = {"A": ("FR", "desktop"), "B": ("DE", "mobile"), "C": ("US", "desktop")}


def ev(who: str, when: dt.datetime, path: str, **extra: Any) -> dict[str, Any]:
    country, device = PLACES[who]
    return row(who, when, path, country=country, device=device, **extra)


def fixture_events() -> list[dict[str, Any]]:
    signup, share = {"kind": "event", "name": "signup"}, {"kind": "event", "name": "share"}
    return [
        # visit 1 (A, day 1): google, a second pageview, a custom event: 360 s, no bounce
        ev("A", at(DAY1, 10, 0), "/", referrer="google.com"),
        ev("A", at(DAY1, 10, 5), "/pricing"),
        ev("A", at(DAY1, 10, 6), "/pricing", props={"plan": "pro"}, **signup),
        # visit 2 (A, day 1): 31 minutes later, direct, a bounce
        ev("A", at(DAY1, 10, 37), "/docs"),
        # visit 3 (B, day 1): a bounce from news.example
        ev("B", at(DAY1, 12, 0), "/", referrer="news.example"),
        # visit 4 (B, day 2): two pageviews, 600 s
        ev("B", at(DAY2, 9, 0), "/pricing"),
        ev("B", at(DAY2, 9, 10), "/"),
        # visit 5 (C, day 2): three pageviews, two custom events, 1800 s
        ev("C", at(DAY2, 15, 0), "/"),
        ev("C", at(DAY2, 15, 1), "/", props={"plan": "free"}, **signup),
        ev("C", at(DAY2, 15, 20), "/docs"),
        ev("C", at(DAY2, 15, 21), "/docs", props={"network": "mastodon"}, **share),
        ev("C", at(DAY2, 15, 30), "/pricing"),
    ]


@pytest.fixture
def loaded(runtime: Runtime) -> Iterator[Runtime]:
    clean(runtime)
    events = fixture_events()
    ingest(runtime, [events[:5], events[5:]])
    yield runtime
    clean(runtime)


def test_co5_hand_counted_totals_and_series(loaded: Runtime) -> None:
    with loaded.transaction() as s:
        assert queries.totals(s, SITE, BOTH) == Totals(3, 5, 9, 12, 1.8, 40.0, 552.0, True)
        assert queries.series(s, SITE, BOTH) == [
            Point(DAY1, 2, 3, 4, 66.67, 120.0),
            Point(DAY2, 2, 2, 5, 0.0, 1200.0),
        ]
        assert queries.totals(s, SITE, Period(DAY2, DAY2)).visitors == 2


def test_co5_hand_counted_breakdowns(loaded: Runtime) -> None:
    with loaded.transaction() as s:

        def rows(dimension: str) -> list[Row]:
            return queries.breakdown(s, SITE, BOTH, dimension)

        assert rows("page") == [
            Row("/", 3, 4, 4, 5, 25.0, 690.0),
            Row("/pricing", 3, 3, 3, 4, 0.0, 920.0),
            Row("/docs", 2, 2, 2, 3, 50.0, 900.0),
        ]
        assert rows("source") == [
            Row("Direct / None", 3, 3, 6, 8, 33.33, 800.0),
            Row("google.com", 1, 1, 2, 3, 0.0, 360.0),
            Row("news.example", 1, 1, 1, 1, 100.0, 0.0),
        ]
        assert rows("country") == [
            Row("DE", 1, 2, 3, 3, 50.0, 300.0),
            Row("FR", 1, 2, 3, 4, 50.0, 180.0),
            Row("US", 1, 1, 3, 5, 0.0, 1800.0),
        ]
        assert rows("event") == [
            Row("signup", 2, 2, 0, 2, 0.0, 0.0),
            Row("share", 1, 1, 0, 1, 0.0, 0.0),
        ]
        assert rows("entry_page") == [
            Row("/", 3, 3, 6, 9, 33.33, 720.0),
            Row("/docs", 1, 1, 1, 1, 100.0, 0.0),
            Row("/pricing", 1, 1, 2, 2, 0.0, 600.0),
        ]
        assert rows("exit_page") == [
            Row("/pricing", 2, 2, 5, 8, 0.0, 1080.0),
            Row("/", 1, 2, 3, 3, 50.0, 300.0),
            Row("/docs", 1, 1, 1, 1, 100.0, 0.0),
        ]
        assert rows("device") == [
            Row("desktop", 2, 3, 6, 9, 33.33, 720.0),
            Row("mobile", 1, 2, 3, 3, 50.0, 300.0),
        ]


def test_co5_visitors_per_value_read_in_several_statements_agree(
    loaded: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A breakdown paged far asks for more value sketches than one statement may bind."""
    with loaded.transaction() as s:
        rollups.persist_now(s)  # the final visits' sketches are stored, not read from events
    monkeypatch.setattr(repository, "PARAMETERS", 2)
    parts.forget()
    with loaded.transaction() as s:
        board = queries.dashboard(s, SITE, BOTH, limit=100)
        visits = raw.load(s, SITE, BOTH)
    for dimension in queries.DIMENSIONS:
        assert board.breakdowns[dimension] == raw.rows_of(visits, dimension), dimension


def test_co5_hand_counted_filters(loaded: Runtime) -> None:
    with loaded.transaction() as s:
        fr = queries.dashboard(s, SITE, BOTH, Filters((("country", "FR"),)), now=at(DAY2, 23, 0))
        assert fr.source == "rollups"
        assert fr.totals == Totals(1, 2, 3, 4, 1.5, 50.0, 180.0, True)
        docs = queries.totals(s, SITE, BOTH, Filters((("page", "/docs"),)))
        assert docs == Totals(2, 2, 4, 6, 2.0, 50.0, 900.0, True)
        signup = queries.dashboard(s, SITE, BOTH, Filters((("event", "signup"),)))
        assert signup.source == "visit columns"
        assert signup.totals == Totals(2, 2, 5, 8, 2.5, 0.0, 1080.0, True)
        assert queries.event_properties(s, SITE, BOTH, "signup") == [
            ("plan", "free", 1, 1), ("plan", "pro", 1, 1),
        ]  # fmt: skip


def test_co5_dashboard_compare_realtime_and_sites(loaded: Runtime) -> None:
    with loaded.transaction() as s:
        board = queries.dashboard(s, SITE, Period(DAY2, DAY2), compare=True, now=at(DAY2, 15, 33))
        assert board.previous == Totals(2, 3, 4, 5, 1.33, 66.67, 120.0, True)
        assert board.realtime_visitors == 1
        assert set(board.breakdowns) == set(queries.DIMENSIONS)
        assert queries.sites(s) == [SITE]


def test_co5_recompute_day_matches_raw_events(loaded: Runtime) -> None:
    with loaded.transaction() as s:
        before = queries.dashboard(s, SITE, BOTH, now=at(DAY2, 23, 0))
        recompute.recompute_day(s, SITE, DAY1)
        recompute.recompute_day(s, SITE, DAY2)
    with loaded.transaction() as s:
        after = queries.dashboard(s, SITE, BOTH, now=at(DAY2, 23, 0))
        assert after == before
        assert after.totals == raw.totals(s, SITE, BOTH)


def test_bad_period_and_filter_names_are_clear_400s() -> None:
    with pytest.raises(BadRequest, match="unknown period"):
        Period.parse("fortnight", DAY1)
    with pytest.raises(BadRequest, match="unknown filter"):
        Filters.parse({"filter_shoe_size": "42"})
    assert Period.parse("7d", DAY2) == Period(DAY2 - dt.timedelta(days=6), DAY2)
