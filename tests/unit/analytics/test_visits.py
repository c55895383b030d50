"""A visit's figures as it grows, and the deltas a batch applies (CO5)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.analytics.support import row
from troth.analytics.rollups import batch_deltas
from troth.analytics.sessions import Change, SiteVisits
from troth.analytics.visits import Key, Visit, accumulate, change, contribution

T0 = dt.datetime(2026, 4, 1, 9, 0, tzinfo=dt.UTC)
DAY = T0.date()


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def test_co5_second_pageview_removes_the_bounce_and_moves_the_exit_page() -> None:
    visit = Visit.open(7, row("v", at(0), "/"), (at(0), 1))
    visit.add(row("v", at(0), "/"), (at(0), 1))
    before = visit.copy()
    assert contribution(before)[(DAY, "", "", "", "")] == (1, 1, 1, 1, 0)
    visit.add(row("v", at(2), "/docs"), (at(2), 2))
    deltas = batch_deltas([Change("s", before, visit)])["s"]
    assert deltas[(DAY, "", "", "", "")] == (1, 1, 0, -1, 120_000_000)
    assert deltas[(DAY, "", "", "exit_page", "/")] == (-1, -1, -1, -1, 0)
    assert deltas[(DAY, "", "", "exit_page", "/docs")] == (2, 2, 1, 0, 120_000_000)
    assert (DAY, "", "", "entry_page", "/") in deltas  # its bounce went away


def test_co5_late_event_joins_the_visit_and_becomes_its_first() -> None:
    site = SiteVisits(epoch=1, flushed_before=T0 - dt.timedelta(days=1))
    first = row("v", at(10), "/b", referrer="news.example")
    visit, fresh = site.place(first, (at(10), 1))
    visit.add(first, (at(10), 1))
    late = row("v", at(9.9), "/a", referrer="google.com")
    joined, again = site.place(late, (at(9.9), 2))
    joined.add(late, (at(9.9), 2))
    assert fresh
    assert not again
    assert joined is visit
    assert visit.values["source"] == "google.com"
    assert visit.entry is not None
    assert visit.entry[1] == "/a"
    assert visit.duration_us == 6_000_000


def test_co5_thirty_minutes_apart_is_a_new_visit_and_the_old_one_becomes_final() -> None:
    site = SiteVisits(epoch=1, flushed_before=T0 - dt.timedelta(days=1))
    a, _ = site.place(row("v", at(0)), (at(0), 1))
    b, fresh = site.place(row("v", at(30)), (at(30), 2))
    assert fresh
    assert a is not b
    assert site.flush(at(30)) == []  # its last event is not yet over 30 minutes old
    assert site.flush(at(31)) == [a]


EVENTS = st.lists(
    st.tuples(
        st.floats(min_value=-20, max_value=20),  # minutes from 09:00; some come before the first
        st.sampled_from(["/", "/a", "/b"]),
        st.sampled_from(["pageview", "event", "event", "engagement"]),
        st.sampled_from(["signup", "share"]),
        st.sampled_from(["", "news.example"]),
    ),
    min_size=1,
    max_size=12,
)


def _difference(before: Visit | None, after: Visit) -> dict[Key, list[int]]:
    sums: dict[Key, list[int]] = {}
    accumulate(sums, contribution(after).items())
    accumulate(sums, contribution(before).items(), -1)
    return {key: counts for key, counts in sums.items() if any(counts)}


@settings(max_examples=300, deadline=None)
@given(events=EVENTS, split=st.integers(min_value=0, max_value=12))
def test_co5_a_visits_change_equals_its_figures_after_minus_before(
    events: list[tuple[float, str, str, str, str]], split: int
) -> None:
    visit: Visit | None = None
    before: Visit | None = None
    for n, (minutes, path, kind, name, referrer) in enumerate(events):
        if n == split:
            before = visit.copy() if visit is not None else None
        event = row("v", at(minutes), path, kind=kind, name=name, referrer=referrer)
        order = (at(minutes), n)
        visit = visit or Visit.open(1, event, order)
        visit.add(event, order)
    assert visit is not None
    got: dict[Key, list[int]] = {}
    accumulate(got, change(before, visit))
    assert {k: v for k, v in got.items() if any(v)} == _difference(before, visit)
