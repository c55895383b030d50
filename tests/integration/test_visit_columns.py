"""CO5: filters the rollups do not hold are answered from settled days' visit columns.

Settled days are stored as one block of columns per day, built from events the first time a
filter needs them; a late event or a recompute renews the day's version, so a block is never
read once its day has changed, and a block built under an old version is never written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.unit.analytics.support import SITE, clean, ingest, row
from troth.analytics import (
    column_days,
    columns,
    pair_days,
    queries,
    raw,
    recompute,
    rollups,
    scan,
    sessions,
)
from troth.analytics.figures import DIMENSIONS, Filters, Period
from troth.analytics.models import MAX_VALUE, DayColumns
from troth.cli import app as troth_app
from troth.collect.models import StoredEvent
from troth.jobs.models import Job
from troth.jobs.registry import registry
from troth.jobs.worker import run_once
from troth.runtime import Runtime

DAY1 = dt.date(2026, 4, 6)
DAYS = [DAY1 + dt.timedelta(days=n) for n in range(4)]
WEEK = Period(DAYS[0], DAYS[-1])
FIREFOX = Filters((("browser", "Firefox"),))
FIREFOX_FR = Filters((("browser", "Firefox"), ("country", "FR")))


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=dt.UTC)


def traffic() -> list[dict[str, object]]:
    """Four days: visitors on two browsers and two countries, several pages, custom events,
    a visit across midnight and a visitor who returns on another day."""
    rows = []
    for n, day in enumerate(DAYS):
        for v in range(6):
            who, browser = f"v{v + n % 2}", ("Firefox", "Chrome")[v % 2]
            country = ("FR", "DE", "US")[v % 3]
            start = at(day, 8 + v, 5 * n)
            rows.append(row(who, start, "/", browser=browser, country=country,
                            referrer=("", "google.com")[v % 2]))  # fmt: skip
            if v % 3 != 2:
                rows.append(row(who, start + dt.timedelta(minutes=4), f"/p{v % 4}",
                                browser=browser, country=country))  # fmt: skip
            if v % 2 == 0:
                rows.append(row(
                    who, start + dt.timedelta(minutes=6), f"/p{v % 4}", kind="event",
                    name="signup", browser=browser, country=country,
                    props={"plan": ("pro", "free")[v % 4 // 2]},
                ))  # fmt: skip
        # Across midnight: starts on this day, ends on the next.
        rows.append(row("night", at(day, 23, 50), "/late", country="FR"))
        rows.append(row("night", at(day, 23, 50) + dt.timedelta(minutes=20), "/after",
                        country="FR"))  # fmt: skip
    # A last event on the day after, so every day of the week is settled.
    rows.append(row("closing", at(DAYS[-1] + dt.timedelta(days=1), 12), "/", country="DE"))
    return sorted(rows, key=lambda r: r["ts"])  # type: ignore[arg-type,return-value]


@pytest.fixture
def week(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    """The week ingested, its watermark written with every batch (so its days are settled)."""
    monkeypatch.setattr(rollups, "PERSIST_SECONDS", 0.0)
    clean(runtime)
    rows = traffic()
    ingest(runtime, [rows[: len(rows) // 2], rows[len(rows) // 2 :]])
    yield runtime
    clean(runtime)


def stored(session: Session) -> dict[dt.date, tuple[int, bool]]:
    c = DayColumns
    found = session.execute(select(c.day, c.version, c.data.is_not(None)).where(c.site == SITE))
    return {day: (version, ready) for day, version, ready in found}


def assert_like_raw(session: Session, period: Period, filters: Filters) -> None:
    visits = raw.load(session, SITE, period, filters)
    board = queries.dashboard(session, SITE, period, filters, limit=1000)
    assert board.source == "visit columns"
    assert board.totals == raw.totals_of(visits)
    assert board.series == raw.series_of(visits, period)
    for dimension in DIMENSIONS:
        assert board.breakdowns[dimension] == raw.rows_of(visits, dimension), dimension


def test_co5_other_filters_read_settled_days_from_stored_columns(week: Runtime) -> None:
    with week.transaction() as s:
        assert stored(s) == {}
        for filters in (FIREFOX, FIREFOX_FR, Filters((("event", "signup"),))):
            assert_like_raw(s, WEEK, filters)
        assert stored(s) == dict.fromkeys(DAYS, (0, True))
    column_days.forget()  # another process: the blocks come from storage, not from events
    with week.transaction() as s, pytest.MonkeyPatch.context() as patch:
        patch.setattr(scan, "load", lambda *a, **k: pytest.fail("settled days replayed"))
        assert_like_raw(s, WEEK, FIREFOX_FR)
        assert column_days.held()[0] == len(DAYS)


def test_co5_a_visit_across_midnight_counts_on_its_first_day(week: Runtime) -> None:
    """Its page after midnight is read from the next day, in settled blocks and moving days."""
    after = Filters((("browser", "Firefox"), ("page", "/after")))
    with week.transaction() as s:
        assert_like_raw(s, WEEK, after)
        by_day = queries.series(s, SITE, WEEK, after)
        assert [p.visits for p in by_day] == [1, 1, 1, 1]
        assert stored(s) == dict.fromkeys(DAYS, (0, True))
        tomorrow = Period(DAYS[-1] + dt.timedelta(days=1), DAYS[-1] + dt.timedelta(days=1))
        assert queries.totals(s, SITE, tomorrow, after).visits == 0


def test_co5_a_breakdown_pages_ranks_and_offsets_like_raw_events(week: Runtime) -> None:
    with week.transaction() as s:
        visits = raw.load(s, SITE, WEEK, FIREFOX)
        for dimension in DIMENSIONS:
            expected = raw.rows_of(visits, dimension)
            for offset, limit in ((0, 1), (1, 2), (2, 10)):
                got = queries.breakdown(s, SITE, WEEK, dimension, FIREFOX, limit, offset)
                assert got == expected[offset : offset + limit], (dimension, offset)
        assert queries.breakdown(s, SITE, WEEK, "page", Filters((("browser", "Lynx"),))) == []


def test_co5_a_late_event_renews_the_day_and_its_block(week: Runtime) -> None:
    with week.transaction() as s:
        before = queries.totals(s, SITE, WEEK, FIREFOX_FR)
    late = row("late", at(DAYS[1], 6), "/late-page", browser="Firefox", country="FR")
    ingest(week, [[late]])
    with week.transaction() as s:
        assert stored(s)[DAYS[1]] == (1, False)
        assert stored(s)[DAYS[0]] == (0, True)
        after = queries.totals(s, SITE, WEEK, FIREFOX_FR)
        assert (after.visits, after.visitors) == (before.visits + 1, before.visitors + 1)
        assert stored(s)[DAYS[1]] == (1, True)
        assert_like_raw(s, WEEK, FIREFOX_FR)


def test_co5_a_recompute_renews_the_day_and_its_block(week: Runtime) -> None:
    with week.transaction() as s:
        assert_like_raw(s, WEEK, FIREFOX)
        s.execute(
            update(StoredEvent).where(StoredEvent.visitor_key == "v0")
            .values(visitor_key="erased-0")
        )  # fmt: skip
        recompute.recompute_day(s, SITE, DAYS[2])
        assert stored(s)[DAYS[2]] == (1, False)
        assert_like_raw(s, Period(DAYS[2], DAYS[2]), FIREFOX)


def test_co5_a_block_built_before_a_change_is_not_written(week: Runtime) -> None:
    """A day changes while a reader builds its block: the stale block is dropped, not stored."""
    with week.transaction() as s:  # the day changes (a late event, a recompute)...
        column_days.invalidate(s, SITE, [DAYS[0], DAYS[-1] + dt.timedelta(days=1)])
    with week.transaction() as s:  # ...after a reader read it under version 0
        column_days._store(s, SITE, DAYS[0], 0, True, b"stale")
        column_days._store(s, SITE, DAYS[-1] + dt.timedelta(days=1), 0, False, b"stale")
    with week.transaction() as s:
        found = stored(s)
        assert found[DAYS[0]] == found[DAYS[-1] + dt.timedelta(days=1)] == (1, False)
        assert_like_raw(s, WEEK, FIREFOX)
    with week.transaction() as s:
        assert stored(s)[DAYS[0]] == (1, True)


def test_co5_blocks_coded_before_the_caches_were_dropped_are_not_read(week: Runtime) -> None:
    """A request may put a block back while another thread drops every vocabulary."""
    with week.transaction() as s:
        old = column_days.vocabulary(s, SITE)
        block = next(column_days.blocks(s, SITE, [DAYS[0]], old))
        column_days.forget()
        key = (sessions.database_of(s), SITE, DAYS[0], 0)
        column_days._kept.put(key, block, block.nbytes, old)  # the racing request, late
        new = column_days.vocabulary(s, SITE)
        assert new is not old
        assert column_days._kept.get(key, new) is None
        assert_like_raw(s, WEEK, FIREFOX_FR)


def test_co5_a_filter_on_a_long_path_matches_as_the_rollups_do(week: Runtime) -> None:
    """Values are kept cut to MAX_VALUE characters: a filter on the cut path finds the visit
    on settled and moving days, and in the oracle, as the page rollups do."""
    long_path = "/" + "x" * (MAX_VALUE + 40)
    late = [row("long", at(DAYS[1], 5), long_path), row("long", at(DAYS[-1], 23), long_path)]
    ingest(week, [late])
    cut = Filters((("page", long_path[:MAX_VALUE]),))
    cut_firefox = Filters((("page", long_path[:MAX_VALUE]), ("browser", "Firefox")))
    with week.transaction() as s:
        assert queries.totals(s, SITE, WEEK, cut).visits == 2
        assert queries.totals(s, SITE, WEEK, cut_firefox).visits == 2
        assert raw.totals(s, SITE, WEEK, cut_firefox).visits == 2
        assert_like_raw(s, WEEK, cut_firefox)


def test_co5_filtered_event_properties_use_the_selected_visits(week: Runtime) -> None:
    with week.transaction() as s:
        allowed = {v.visit_id for v in raw.load(s, SITE, WEEK, FIREFOX_FR)}
        e = StoredEvent
        plans = s.execute(select(e.visit_id, e.visitor_key, e.props).where(e.name == "signup"))
        expected: dict[str, tuple[int, set[str]]] = {}
        for visit_id, visitor, props in plans:
            if visit_id in allowed:
                n, visitors = expected.get(props["plan"], (0, set()))
                expected[props["plan"]] = (n + 1, visitors | {visitor})
        assert expected  # the filter keeps some signups, and not all of them
        found = queries.event_properties(s, SITE, WEEK, "signup", FIREFOX_FR)
        assert {(v, n, k) for _, v, n, k in found} == {
            (plan, n, len(visitors)) for plan, (n, visitors) in expected.items()
        }
        assert len(queries.event_properties(s, SITE, WEEK, "signup")) >= len(found)


def test_co5_days_that_settle_get_their_columns_built_by_a_job(week: Runtime) -> None:
    with week.transaction() as s:
        jobs = s.scalars(select(Job).where(Job.kind == pair_days.JOB_KIND)).all()
        queued = {dt.date.fromisoformat(job.payload["day"]) for job in jobs
                  if job.payload["site"] == SITE}  # fmt: skip
        assert queued >= set(DAYS)
        assert stored(s) == {}
    while run_once(week.sessions, registry, "w1", limit=10):
        pass
    with week.transaction() as s:
        assert {day for day, (_, ready) in stored(s).items() if ready} >= set(DAYS)


def test_co5_a_block_in_an_older_format_is_built_again(week: Runtime) -> None:
    with week.transaction() as s:
        assert_like_raw(s, WEEK, FIREFOX)
        c = DayColumns
        s.execute(update(c).where(c.site == SITE, c.day == DAYS[0]).values(data=b"older"))
    column_days.forget()
    with week.transaction() as s:
        assert_like_raw(s, WEEK, FIREFOX)
    with week.transaction() as s:
        data = s.scalar(select(DayColumns.data).where(DayColumns.day == DAYS[0]))
        assert data is not None
        assert columns.readable(data)


def test_co5_the_command_builds_past_days_ahead_of_need(
    week: Runtime, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = week.settings
    monkeypatch.setenv("TROTH_CONFIG", str(tmp_path / "no-such-troth.toml"))
    monkeypatch.setenv("TROTH_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("TROTH_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("TROTH_POLICY_FILE", str(settings.policy_file))
    cli = CliRunner()
    first = cli.invoke(troth_app, ["analytics", "build-columns", "--site", SITE])
    assert first.exit_code == 0, first.output
    assert first.output.endswith("built 4 of 4 days (0 were stored already)\n")
    with week.transaction() as s:
        assert stored(s) == dict.fromkeys(DAYS, (0, True))
        assert pair_days.built_days(s, SITE, DAYS) == set(DAYS)  # their jobs had not run
    again = cli.invoke(troth_app, ["analytics", "build-columns"])
    assert again.output.endswith("built 0 of 4 days (4 were stored already)\n")
    unknown = cli.invoke(troth_app, ["analytics", "build-columns", "--site", "nowhere.example"])
    assert unknown.exit_code == 1
    assert unknown.output == "error: site 'nowhere.example' has no settled day with analytics\n"
