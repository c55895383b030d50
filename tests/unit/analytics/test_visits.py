"""A visit's figures as it grows, and the deltas a batch applies (CO5)."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.analytics.support import contribution, row
from troth.analytics.models import MAX_VALUE
from troth.analytics.sessions import GAP, LATE, SiteVisits
from troth.analytics.visits import DIRECT, VALUE_COLUMNS, Visit, cut, named, visit_values

T0 = dt.datetime(2026, 4, 1, 9, 0, tzinfo=dt.UTC)
DAY = T0.date()


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def test_co5_second_pageview_removes_the_bounce_and_moves_the_exit_page() -> None:
    visit = Visit.open(7, row("v", at(0), "/"), (at(0), 1))
    visit.add(row("v", at(0), "/"), (at(0), 1))
    assert contribution(visit)[(DAY, "", "", "", "")] == (1, 1, 1, 1, 0)
    assert contribution(visit)[(DAY, "", "", "exit_page", "/")] == (1, 1, 1, 1, 0)
    visit.add(row("v", at(2), "/docs"), (at(2), 2))
    figures = contribution(visit)
    assert figures[(DAY, "", "", "", "")] == (2, 2, 1, 0, 120_000_000)
    assert (DAY, "", "", "exit_page", "/") not in figures
    assert figures[(DAY, "", "", "exit_page", "/docs")] == (2, 2, 1, 0, 120_000_000)
    assert figures[(DAY, "", "", "entry_page", "/")] == (2, 2, 1, 0, 120_000_000)
    assert figures[(DAY, "", "", "page", "/")] == (1, 1, 1, 0, 120_000_000)


def test_co5_late_event_joins_the_visit_and_becomes_its_first() -> None:
    site = SiteVisits(epoch=1, flushed_before=T0 - dt.timedelta(days=1))
    first = row("v", at(10), "/b", referrer="news.example")
    visit = site.add(first, (at(10), 1))
    late = row("v", at(9.9), "/a", referrer="google.com")
    joined = site.add(late, (at(9.9), 2))
    assert joined is visit
    assert site.by_visitor["v"] == [visit]
    assert named(visit.values)["source"] == "google.com"
    assert visit.entry is not None
    assert visit.entry[1] == "/a"
    assert visit.duration_us == 6_000_000


def test_co5_thirty_minutes_apart_is_a_new_visit_and_the_old_one_becomes_final() -> None:
    site = SiteVisits(epoch=1, flushed_before=T0 - dt.timedelta(days=1))
    a = site.add(row("v", at(0)), (at(0), 1))
    b = site.add(row("v", at(30)), (at(30), 2))
    assert a is not b
    assert site.by_visitor["v"] == [a, b]
    assert site.flush(at(30)) == []  # its last event is not yet over 30 minutes old
    assert site.flush(at(31)) == [a]


def test_co5_visit_values_come_cut_and_filled_whatever_the_row_holds() -> None:
    usual = row("v", at(0), referrer="news.example", country="FR")
    assert named(visit_values(usual)) == {
        "source": "news.example", "utm_source": "", "utm_medium": "", "utm_campaign": "",
        "browser": "Firefox", "os": "Linux", "device": "desktop", "language": "en",
        "country": "FR",
    }  # fmt: skip
    long, missing = dict(usual, utm_campaign="c" * 400), dict(usual, country=None)
    del missing["language"]
    assert named(visit_values(long))["utm_campaign"] == "c" * MAX_VALUE
    blank = {**named(visit_values(usual)), "country": "", "language": ""}
    assert named(visit_values(missing)) == blank
    assert named(visit_values(dict(usual, referrer_host="")))["source"] == DIRECT


batches = st.lists(
    st.lists(
        st.tuples(st.integers(0, 4), st.integers(0, 240), st.sampled_from([0, 1, 999_999])),
        min_size=1, max_size=8,
    ),
    min_size=1, max_size=12,
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(batches)
def test_co5_final_visits_and_where_open_ones_begin_match_a_walk_over_every_visit(
    found: list[list[tuple[int, int, int]]],
) -> None:
    """Open visits filed by the second of their last event finalise what a walk over every
    open visit would: events of five visitors, minutes apart (give or take a microsecond, so
    a watermark falls inside a second) and out of order, batch after batch."""
    site = SiteVisits(epoch=1, flushed_before=T0 - dt.timedelta(days=1))
    arrival = itertools.count()

    def moment(minute: int, micros: int) -> dt.datetime:
        return at(minute) + dt.timedelta(microseconds=micros)

    for batch in found:
        for who, minute, micros in batch:
            ts = moment(minute, micros)
            site.add(row(f"v{who}", ts), (ts, next(arrival)))
        newest = max(moment(minute, micros) for _, minute, micros in batch)
        held = site.open_visits()
        watermark = max(site.flushed_before, newest - GAP)
        done = site.flush(newest)
        assert len({v.visit_id for v in done}) == len(done)  # each final once
        assert {v.visit_id for v in done} == {v.visit_id for v in held if v.last[0] < watermark}
        still = site.open_visits()
        assert {v.visit_id for v in still} == {v.visit_id for v in held} - {
            v.visit_id for v in done
        }
        assert site.open_since() == min([watermark, *(v.first[0] for v in still)]) - LATE
        filed = [v.visit_id for visits in site.by_second.values() for v in visits]
        assert sorted(site.seconds) == sorted(site.by_second)  # a key per list, no empty one
        assert all(site.by_second.values())
        assert sorted(filed) == sorted(v.visit_id for v in still)  # every open visit, once


cell = st.one_of(st.none(), st.text(max_size=120), st.integers(), st.booleans())


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(VALUE_COLUMNS), cell))
def test_co5_visit_values_are_each_column_as_text_cut_whatever_the_row(
    found: dict[str, object],
) -> None:
    """The one-step read gives what reading each column as text and cutting it gives."""
    each = tuple(cut(str(found.get(name) or "")) for name in VALUE_COLUMNS)
    assert visit_values(found) == (each[0] or DIRECT, *each[1:])
