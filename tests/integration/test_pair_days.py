"""CO5: pair rollups are built once per day, when it settles; until then final visits wait.

An ingest batch writes no pair row: the visits that become final are stored as one block per
day (`recent.py`), and a filtered dashboard adds them to the pair rollups. The day's job
joins its blocks, writes its pair rows, sketches and visit columns from them (reading no
event), deletes the blocks and marks it built; a visit that becomes final on a built day goes
to the pair rows directly.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import delete, event, func, select
from sqlalchemy.orm import Session

from tests.unit.analytics.support import (
    SITE,
    clean,
    ingest,
    row,
    unfiltered_as_before,
    write_unfiltered,
)
from troth.analytics import pair_days, parts, queries, raw, recent, recompute, rollups, scan
from troth.analytics.figures import DIMENSIONS, Filters, Period
from troth.analytics.models import DayColumns, RecentVisits, Rollup, SiteState, Sketch
from troth.collect import ingest as collect_ingest
from troth.collect.models import StoredEvent
from troth.jobs.models import Job
from troth.jobs.registry import registry
from troth.jobs.worker import run_once
from troth.runtime import Runtime

DAY1 = dt.date(2026, 3, 2)
DAY2 = DAY1 + dt.timedelta(days=1)
BOTH = Period(DAY1, DAY2)
FR = Filters((("country", "FR"),))
FILTERS = [FR, Filters((("page", "/a"),)), Filters((("device", "mobile"),)),
           Filters((("source", "google.com"),)), Filters()]  # fmt: skip
OTHER = [
    Filters((("browser", "Firefox"),)),
    Filters((("browser", "Chrome"),)),
    Filters((("country", "FR"), ("page", "/a"))),
]


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=dt.UTC)


def first_day() -> list[dict[str, object]]:
    rows = []
    for v in range(8):
        start = at(DAY1, 9 + v)
        country, device = ("FR", "DE")[v % 2], ("desktop", "mobile")[v % 3 == 0]
        rows.append(row(f"v{v}", start, "/", country=country, device=device,
                        referrer=("", "google.com")[v % 2]))  # fmt: skip
        rows.append(row(f"v{v}", start + dt.timedelta(minutes=3), ("/a", "/b")[v % 2],
                        country=country, device=device))  # fmt: skip
    return rows


@pytest.fixture
def settled(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    """DAY1's visits, then two on DAY2 (the first final by noon): DAY1 is settled, its pairs
    not built yet; DAY2 is moving."""
    monkeypatch.setattr(rollups, "PERSIST_SECONDS", 0.0)
    clean(runtime)
    ingest(runtime, [first_day()[:7], first_day()[7:]])
    ingest(runtime, [[row("u", at(DAY2, 10), "/b", country="DE", browser="Chrome")]])
    ingest(runtime, [[row("w", at(DAY2, 12), "/a", country="FR")]])
    yield runtime
    clean(runtime)


def pair_rows(session: Session, day: dt.date) -> int:
    r = Rollup
    stmt = select(func.count()).where(r.site == SITE, r.day == day, r.filter_dim != "")
    return int(session.scalar(stmt) or 0)


def waiting(session: Session, day: dt.date) -> int:
    """Visits waiting in the day's blocks."""
    r = RecentVisits
    stmt = select(func.sum(r.visits)).where(r.site == SITE, r.day == day)
    return int(session.scalar(stmt) or 0)


def assert_like_raw(session: Session, filters_list: list[Filters] = FILTERS) -> None:
    for filters in filters_list:
        visits = raw.load(session, SITE, BOTH, filters)
        board = queries.dashboard(session, SITE, BOTH, filters, limit=1000)
        assert board.source == ("rollups" if filters in FILTERS else "visit columns")
        assert board.totals == raw.totals_of(visits), filters
        assert board.series == raw.series_of(visits, BOTH), filters
        for dimension in DIMENSIONS:
            assert board.breakdowns[dimension] == raw.rows_of(visits, dimension), dimension


def run_jobs(runtime: Runtime) -> None:
    while run_once(runtime.sessions, registry, "w1", limit=10):
        pass


def unfiltered(session: Session, day: dt.date) -> tuple[int, int, int]:
    """The day's unfiltered rows and sketches, and the visits its totals row counts."""
    found = []
    for table in (Rollup, Sketch):
        stmt = select(func.count()).where(
            table.site == SITE, table.day == day, table.filter_dim == ""
        )  # fmt: skip
        found.append(int(session.scalar(stmt) or 0))
    r = Rollup
    total = select(r.visits).where(r.site == SITE, r.day == day, r.filter_dim == "",
                                   r.dimension == "")  # fmt: skip
    return found[0], found[1], int(session.scalar(total) or 0)


def test_co5_a_days_unfiltered_rows_are_written_once_by_its_job(settled: Runtime) -> None:
    """Watermarks write no unfiltered row either: views read the waiting blocks, and the
    day's job writes its unfiltered rows and sketches with its pair ones."""
    with settled.transaction() as s:
        assert unfiltered(s, DAY1) == (0, 0, 0)
        assert unfiltered(s, DAY2) == (0, 0, 0)
        assert_like_raw(s)
    run_jobs(settled)
    with settled.transaction() as s:
        rows, sketches, visits = unfiltered(s, DAY1)
        assert rows > 1
        assert sketches == rows
        assert visits == 8
        assert unfiltered(s, DAY2) == (0, 0, 0)  # still moving
        assert waiting(s, DAY1) == 0
        assert_like_raw(s)
        assert_like_raw(s, OTHER)


def test_co5_ingest_writes_no_pair_rows_final_visits_wait_in_blocks(settled: Runtime) -> None:
    with settled.transaction() as s:
        assert pair_rows(s, DAY1) == 0
        assert waiting(s, DAY1) == 8
        jobs = s.scalars(select(Job).where(Job.kind == pair_days.JOB_KIND)).all()
        assert [job.payload for job in jobs] == [{"site": SITE, "day": DAY1.isoformat()}]
        assert_like_raw(s)


def test_co5_the_days_job_builds_its_pairs_and_empties_its_blocks(settled: Runtime) -> None:
    with settled.transaction() as s:
        assert_like_raw(s)  # the settled part is now kept in memory, with DAY1's blocks apart
        revision = s.get(SiteState, SITE).revision  # type: ignore[union-attr]
    run_jobs(settled)
    with settled.transaction() as s:
        assert waiting(s, DAY1) == 0
        assert pair_rows(s, DAY1) > 0
        day = s.get(DayColumns, (SITE, DAY1))
        assert day is not None
        assert day.pairs
        assert day.data is not None  # the visit columns came from the same blocks
        assert s.get(SiteState, SITE).revision == revision + 1  # type: ignore[union-attr]
        assert_like_raw(s)  # the blocks are gone and the cached part was renewed
        assert not pair_days.build_day(s, SITE, DAY1)  # built once


def test_co5_the_days_job_reads_its_blocks_not_its_events(settled: Runtime) -> None:
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    engine = settled.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        run_jobs(settled)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert any("analytics_recent_visits" in sql for sql in statements)
    assert not [sql for sql in statements if re.search(r"\b(FROM|JOIN) events\b", sql)]
    with settled.transaction() as s:
        assert pair_rows(s, DAY1) > 0
        assert_like_raw(s, FILTERS + OTHER)


def test_co5_a_day_with_no_waiting_block_is_built_from_its_events(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events stored with their visits but not through the ingest hooks (no block waits): the
    day's job replays them rather than marking the day built with nothing in it."""
    clean(runtime)
    monkeypatch.setattr(collect_ingest, "_before", [])
    monkeypatch.setattr(collect_ingest, "_after", [])
    ingest(runtime, [[dict(r, visit_id=int(str(r["visitor_key"])[1:]) + 1) for r in first_day()]])
    try:
        with runtime.transaction() as s:
            assert waiting(s, DAY1) == 0
            assert pair_days.build_day(s, SITE, DAY1)
        with runtime.transaction() as s:
            r = Rollup
            visits = s.scalar(select(r.visits).where(
                r.site == SITE, r.day == DAY1, r.filter_dim == "country", r.filter_value == "FR",
                r.dimension == "",
            ))  # fmt: skip
            assert visits == 4  # v0, v2, v4, v6
    finally:
        clean(runtime)


@pytest.mark.parametrize(
    "db_engine", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_co5_a_job_committing_in_the_middle_of_an_answer_is_not_counted_twice(
    settled: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer read DAY1's waiting blocks; then DAY1's job moved them into its pair rows
    before the answer read those. PostgreSQL only: on SQLite the job waits for the answer."""
    reading, ran = parts.totals, []

    def with_the_job_first(*args: Any, **kwargs: Any) -> Any:
        if not ran:
            ran.append(True)
            run_jobs(settled)  # commits in a session of its own
        return reading(*args, **kwargs)

    monkeypatch.setattr(parts, "totals", with_the_job_first)
    with settled.transaction() as s:
        board = queries.dashboard(s, SITE, BOTH, FR, limit=1000)
        expected = raw.totals_of(raw.load(s, SITE, BOTH, FR))
    assert ran
    assert board.totals == expected


def test_co5_a_visit_final_on_a_built_day_goes_to_its_pair_rows(settled: Runtime) -> None:
    run_jobs(settled)
    with settled.transaction() as s:
        before = pair_rows(s, DAY1)
    # An event that arrived late for DAY1, then enough later traffic to make its visit final.
    ingest(settled, [[row("late", at(DAY1, 20), "/late", country="FR", device="tablet")]])
    ingest(settled, [[row("w", at(DAY2, 15), "/b", country="DE")]])
    with settled.transaction() as s:
        assert waiting(s, DAY1) == 0
        assert pair_rows(s, DAY1) > before
        assert_like_raw(s)


def test_co5_a_days_blocks_are_merged_as_they_pile_up(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rollups, "PERSIST_SECONDS", 0.0)
    monkeypatch.setattr(recent, "MERGE_AT", 3)
    monkeypatch.setattr(recent, "TIER_ROWS", 2)
    clean(runtime)
    try:
        # Eight visits an hour apart, one batch each: each batch makes the one before final.
        for n, r in enumerate(first_day()[::2]):
            ingest(runtime, [[r, first_day()[2 * n + 1]]])
            with runtime.transaction() as s:
                rows = s.scalar(select(func.count()).select_from(RecentVisits)) or 0
                assert rows < 3
                assert waiting(s, DAY1) == n
                assert_like_raw(s)
    finally:
        clean(runtime)


def test_co5_a_block_read_then_deleted_and_rewritten_is_read_again(settled: Runtime) -> None:
    """Rows are known by id in each process: a day's blocks rewritten (a recompute, a merge)
    get new ids, never an old one."""
    with settled.transaction() as s:
        assert_like_raw(s)
        first = s.scalars(select(RecentVisits.id).where(RecentVisits.day == DAY1)).all()
    with settled.transaction() as s:  # an erasure: one visitor's events go
        s.execute(delete(StoredEvent).where(StoredEvent.visitor_key == "v0"))
        recompute.recompute_day(s, SITE, DAY1)
    with settled.transaction() as s:
        again = s.scalars(select(RecentVisits.id).where(RecentVisits.day == DAY1)).all()
        assert set(again).isdisjoint(first)
        assert waiting(s, DAY1) == 7
        assert_like_raw(s)


def test_co5_other_filters_read_moving_days_from_waiting_blocks(settled: Runtime) -> None:
    with settled.transaction() as s:
        assert waiting(s, DAY2) == 1
        assert_like_raw(s, OTHER)  # builds DAY1's visit columns
    with settled.transaction() as s, pytest.MonkeyPatch.context() as patch:
        patch.setattr(scan, "load", lambda *a, **k: pytest.fail("moving day replayed"))
        assert_like_raw(s, OTHER)


def test_co5_days_moving_at_an_upgrade_are_replayed_and_built_whole(settled: Runtime) -> None:
    """Before this version a final visit went to pair rows, not to a block: the days moving
    when it was installed are replayed from their events, and their job replaces those rows."""
    with settled.transaction() as s:
        found = s.scalars(select(RecentVisits).where(RecentVisits.day == DAY2)).one()
        legacy = [v for v in raw.load(s, SITE, Period(DAY2, DAY2)) if v.visitor_key == "u"]
        pair_days.add(s, SITE, legacy)  # as the old ingester
        s.delete(found)
        state = s.get(SiteState, SITE)
        assert state is not None
        state.blocks_since = state.flushed_before
        unfiltered_as_before(s, state, [DAY1, DAY2])
    with settled.transaction() as s:
        assert_like_raw(s, OTHER)
    ingest(settled, [[row("z", at(DAY2 + dt.timedelta(days=1), 9), "/", country="DE")]])
    run_jobs(settled)
    with settled.transaction() as s:
        assert pair_days.built_days(s, SITE, [DAY2]) == {DAY2}
        assert_like_raw(s)


def assert_day_one_built_once(runtime: Runtime) -> None:
    """After the jobs: DAY1 built, its totals row counting each of its 8 visits once, and
    every view equal to raw events."""
    run_jobs(runtime)
    with runtime.transaction() as s:
        assert pair_days.built_days(s, SITE, [DAY1]) == {DAY1}
        assert unfiltered(s, DAY1)[2] == 8
        assert_like_raw(s)
        assert_like_raw(s, OTHER)


def test_co5_days_stored_before_the_upgrade_keep_their_unfiltered_rows(
    settled: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    """Days before `unfiltered_from` had their unfiltered rows written with each watermark,
    their visits in blocks too: views read the rows, and the day's job writes the pair
    rows only (from the blocks), leaving the unfiltered ones as they are."""
    with settled.transaction() as s:
        state = s.get(SiteState, SITE)
        assert state is not None
        unfiltered_as_before(s, state, [DAY1, DAY2])
    with settled.transaction() as s:
        assert_like_raw(s)
    ingest(settled, [[row("x", at(DAY2, 15), "/b", country="FR")]])  # DAY2's visits end
    assert_day_one_built_once(settled)
    assert "written again" not in caplog.text


def test_co5_unfiltered_rows_an_older_process_wrote_are_written_again_by_the_job(
    settled: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    """During an upgrade a process of the older version may still write a new-way day's
    unfiltered rows with its watermarks (and its blocks): the day's job writes them again
    from the blocks alone, rather than failing on rows it expected not to find."""
    with settled.transaction() as s:
        state = s.get(SiteState, SITE)
        assert state is not None
        write_unfiltered(s, state, [DAY1])
    assert_day_one_built_once(settled)
    assert "had unfiltered rows before its job" in caplog.text


def test_co5_a_built_day_read_as_moving_is_replayed(settled: Runtime) -> None:
    """Should the settled day ever move back before a built day, that day's final visits are
    in its pair rows, not in blocks: it is replayed."""
    run_jobs(settled)
    with settled.transaction() as s:
        state = s.get(SiteState, SITE)
        assert state is not None
        state.open_since = at(DAY1, 0)
    with settled.transaction() as s:
        assert_like_raw(s, OTHER)
        assert_like_raw(s)


def test_co5_a_late_visit_is_written_with_its_batch_before_its_days_job_runs(
    settled: Runtime, monkeypatch: pytest.MonkeyPatch, assignment: str
) -> None:
    """A late visit is final at once: written with the batch that brought it, it is in the
    day's blocks when the job replays the day, and never added a second time."""
    monkeypatch.setattr(rollups, "PERSIST_SECONDS", 3600.0)
    ingest(settled, [[row("late", at(DAY1, 20), "/late", country="FR")]])
    with settled.transaction() as s:
        assert waiting(s, DAY1) == 9
    run_jobs(settled)
    with settled.transaction() as s:
        rollups.persist_now(s)
    with settled.transaction() as s:
        assert_like_raw(s)


def test_co5_a_late_visit_on_a_built_day_renews_a_cached_view(
    settled: Runtime, monkeypatch: pytest.MonkeyPatch, assignment: str
) -> None:
    run_jobs(settled)
    with settled.transaction() as s:
        assert_like_raw(s)  # DAY1 is now kept in memory
    monkeypatch.setattr(rollups, "PERSIST_SECONDS", 3600.0)
    ingest(settled, [[row("late", at(DAY1, 20), "/late", country="FR")]])
    with settled.transaction() as s:
        assert waiting(s, DAY1) == 0
        assert_like_raw(s)


def test_co5_a_late_visit_reaches_views_of_a_built_days_visit_columns(
    settled: Runtime, monkeypatch: pytest.MonkeyPatch, assignment: str
) -> None:
    """A late visit on a day whose visit columns are stored (and kept in memory) shows in
    the filters answered from them."""
    run_jobs(settled)
    with settled.transaction() as s:
        assert_like_raw(s, OTHER)  # DAY1's visit columns read, stored and kept
    monkeypatch.setattr(rollups, "PERSIST_SECONDS", 3600.0)
    ingest(settled, [[row("late", at(DAY1, 20), "/late", country="FR")]])  # a Firefox visit
    with settled.transaction() as s:
        assert_like_raw(s, OTHER)


def test_co5_another_sites_batch_never_writes_what_a_recompute_made_stale(
    settled: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Final visits held in memory when their site is recomputed (here after "w" is erased)
    are dropped, even when another site's batch is the one that writes."""
    monkeypatch.setattr(rollups, "PERSIST_SECONDS", 3600.0)
    ingest(settled, [[row("x", at(DAY2, 12, 45), "/a", country="FR")]])  # makes "w" final
    with settled.transaction() as s:
        s.execute(delete(StoredEvent).where(StoredEvent.visitor_key == "w"))
        recompute.recompute_day(s, SITE, DAY2)
    monkeypatch.setattr(rollups, "PERSIST_SECONDS", 0.0)
    ingest(settled, [[row("o", at(DAY2, 13), "/", site="other.example")]])
    ingest(settled, [[row("y", at(DAY2, 14), "/b", country="DE")]])
    with settled.transaction() as s:
        assert_like_raw(s)
        assert_like_raw(s, OTHER)


@pytest.mark.parametrize(
    "db_engine", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_co5_a_merge_of_blocks_between_a_views_reads_misses_no_visit(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A view reads a day's block ids, then the blocks it has not seen; a late visit's batch
    merges the day's blocks in between without moving the watermark (PostgreSQL only)."""
    monkeypatch.setattr(rollups, "PERSIST_SECONDS", 0.0)
    clean(runtime)
    start, period = at(DAY1, 1), Period(DAY1, DAY1)
    try:
        for n in range(recent.MERGE_AT):  # each batch makes the one before final: a block each
            ingest(runtime, [[row(f"v{n}", start + dt.timedelta(minutes=40 * n), country="FR")]])
            if n == recent.MERGE_AT - 2:
                with runtime.transaction() as s:  # this process now holds all but the newest
                    queries.totals(s, SITE, period, FR)
        reading, merged = recent.plain_rows, []

        def with_a_merge_first(session: Session, stmt: Any) -> Any:
            if not merged:
                merged.append(True)
                late = row("late", start + dt.timedelta(minutes=5), country="FR")
                ingest(runtime, [[late]])  # final at once: its block makes the day merge
            return reading(session, stmt)

        monkeypatch.setattr(recent, "plain_rows", with_a_merge_first)
        with runtime.transaction() as s:
            before = waiting(s, DAY1)
            found = queries.totals(s, SITE, period, FR)
        assert merged
        assert found.visits in (before + 1, before + 2)  # as it was, or with the late visit
    finally:
        clean(runtime)
