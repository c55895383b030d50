"""CO5: unfiltered counts hold final visits only, each written once; a view adds the open ones.

A visit final on arrival is written with its batch. A site stored by a version that counted
open visits batch by batch is marked (`SiteState.open_counted`): views count its open visits
as already in, and its ingester takes them out of the counts when it next loads the site.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from tests.unit.analytics.support import (
    SITE,
    clean,
    contribution,
    ingest,
    row,
    unfiltered_as_before,
)
from troth.analytics import queries, raw, recompute, repository, rollups, sessions
from troth.analytics.figures import DIMENSIONS, Filters, Period
from troth.analytics.visits import Key, accumulate, as_counts, utc
from troth.runtime import Runtime

DAY = dt.date(2026, 3, 2)
PERIOD = Period(DAY, DAY)


def at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=dt.UTC)


def assert_like_raw(session: Session) -> None:
    for filters in (Filters(), Filters((("country", "FR"),))):
        visits = raw.load(session, SITE, PERIOD, filters)
        board = queries.dashboard(session, SITE, PERIOD, filters, limit=1000)
        assert board.totals == raw.totals_of(visits), filters
        assert board.series == raw.series_of(visits, PERIOD), filters
        for dimension in DIMENSIONS:
            assert board.breakdowns[dimension] == raw.rows_of(visits, dimension), dimension


def count_open_visits_the_old_way(session: Session) -> int:
    """What the earlier version left: the open visits' figures in the unfiltered counts."""
    state = repository.state(session, SITE)
    assert state is not None
    found = sessions.rebuild(session, SITE, state.epoch, utc(state.flushed_before))
    sums: dict[Key, list[int]] = {}
    visits = [v for same in found.by_visitor.values() for v in same]
    for visit in visits:
        accumulate(sums, contribution(visit).items())
    repository.add_counts(session, SITE, {key: as_counts(c) for key, c in sums.items()})
    unfiltered_as_before(session, state, [DAY])  # and final ones, with each watermark
    state.open_counted = True
    return len(visits)


def test_co5_counts_that_hold_open_visits_are_read_as_such_and_mended_once(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rollups, "PERSIST_SECONDS", 0.0)
    clean(runtime)
    try:
        ingest(runtime, [[
            row("a", at(9), "/", country="FR"), row("a", at(9, 5), "/a", country="FR"),
            row("b", at(11), "/", referrer="google.com"),
            row("c", at(11, 50), "/b", country="FR"), row("d", at(12), "/"),
            row("d", at(12, 1), "/a", kind="event", name="signup"),
        ]])  # fmt: skip
        with runtime.transaction() as s:
            assert count_open_visits_the_old_way(s) == 2  # c and d: within 30 minutes of 12:01
        rollups.forget()  # the upgraded process starts with nothing in memory
        with runtime.transaction() as s:
            assert_like_raw(s)  # the open visits are not added a second time
        with runtime.transaction() as s:
            recompute.recompute_day(s, SITE, DAY)  # still counts them, as the flag says
        with runtime.transaction() as s:
            assert_like_raw(s)
        ingest(runtime, [[row("c", at(12, 10), "/c", country="FR")]])
        with runtime.transaction() as s:
            state = repository.state(s, SITE)
            assert state is not None
            assert not state.open_counted
            assert_like_raw(s)
        ingest(runtime, [[row("e", at(15), "/")]])  # c and d become final: counted once
        with runtime.transaction() as s:
            assert_like_raw(s)
            assert queries.totals(s, SITE, PERIOD).visits == 5
    finally:
        clean(runtime)


@pytest.fixture
def slow_writes(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    """An empty site whose final visits are written only with a late event or when told to."""
    monkeypatch.setattr(rollups, "PERSIST_SECONDS", 3600.0)
    clean(runtime)
    yield runtime
    clean(runtime)


def test_co5_a_visit_final_on_arrival_is_written_with_its_batch(
    slow_writes: Runtime, assignment: str
) -> None:
    """Events that arrive behind the stored watermark make a visit that is final at once: no
    view would read it from raw events, so it is written in its own batch's transaction, and
    neither a restart nor a recompute before the next write loses it."""
    ingest(slow_writes, [[row("a", at(9), "/"), row("b", at(12), "/a")]])
    with slow_writes.transaction() as s:
        rollups.persist_now(s)  # the stored watermark: 11:30
    ingest(slow_writes, [[row("c", at(11), "/b", country="FR")]])
    with slow_writes.transaction() as s:
        assert_like_raw(s)
        assert queries.totals(s, SITE, PERIOD).visits == 3
    rollups.forget()  # a restart before the next write
    ingest(slow_writes, [[row("d", at(12, 5), "/")]])
    with slow_writes.transaction() as s:
        assert_like_raw(s)
    ingest(slow_writes, [[row("e", at(10), "/c")]])
    with slow_writes.transaction() as s:
        recompute.recompute_day(s, SITE, DAY - dt.timedelta(days=5))  # a new epoch
    ingest(slow_writes, [[row("f", at(12, 10), "/")]])
    with slow_writes.transaction() as s:
        assert_like_raw(s)
        assert queries.totals(s, SITE, PERIOD).visits == 6


def test_co5_an_event_before_the_open_visits_start_is_written_with_its_batch(
    slow_writes: Runtime, assignment: str
) -> None:
    """A late event that becomes the first of an open visit, earlier than where views replay
    the open visits from (the stored `open_since`), moves that start with its own batch."""
    ingest(slow_writes, [[row("a", at(9), "/"), row("b", at(11, 35), "/b"), row("d", at(12))]])
    with slow_writes.transaction() as s:
        rollups.persist_now(s)  # watermark 11:30; the open visits replayed from 11:20
    ingest(slow_writes, [[row("b", at(11, 10), "/early", referrer="google.com")]])
    with slow_writes.transaction() as s:
        assert_like_raw(s)  # b's first page and source are 11:10's
