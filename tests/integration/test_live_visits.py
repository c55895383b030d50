"""CO5: the open visits a process keeps between views, brought up to date by the events
stored since, are the visits a fresh replay gives, batch after batch (`live_visits.py`)."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event
from sqlalchemy.orm import Session

from tests.integration.test_rollups import build, event_spec, fresh_site, periods, split
from tests.unit.analytics.support import SITE, ingest, row
from troth.analytics import live_visits, repository, rollups, scan
from troth.analytics.figures import NO_FILTERS, Period
from troth.analytics.raw import RawVisit
from troth.runtime import Runtime

DAY = dt.date(2026, 5, 11)


def open_now(session: Session, period: Period) -> list[RawVisit]:
    state = repository.state(session, SITE)
    return sorted(scan.open_visits(session, state, SITE, period, NO_FILTERS),
                  key=lambda v: v.visit_id)  # fmt: skip


def assert_kept_equals_fresh(runtime: Runtime) -> None:
    with runtime.transaction() as s:
        for period in periods():
            kept = open_now(s, period)
            saved = dict(live_visits._kept)
            live_visits.forget()
            assert kept == open_now(s, period), period
            live_visits._kept.update(saved)


@pytest.mark.timeout(600)
@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(specs=st.lists(event_spec, min_size=1, max_size=60), seed=st.integers(0, 10**6))
def test_co5_kept_open_visits_equal_a_fresh_replay_after_every_batch(
    runtime: Runtime, specs: list[tuple[int, int, str, int, int, int]], seed: int
) -> None:
    rng = random.Random(seed)
    with fresh_site(runtime, 3600.0):  # the watermark stays put for several batches
        for batch in split(build(specs, seed), seed):
            rollups.PERSIST_SECONDS = 0.0 if rng.random() < 0.3 else 3600.0
            ingest(runtime, [batch])
            assert_kept_equals_fresh(runtime)


def at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=dt.UTC)


def test_co5_a_repeat_view_reads_only_the_events_stored_since(runtime: Runtime) -> None:
    period = Period(DAY, DAY)
    with fresh_site(runtime, 3600.0):
        ingest(runtime, [[row("a", at(9)), row("b", at(9, 5))]])
        with runtime.transaction() as s:
            first = open_now(s, period)
        assert {v.visitor_key for v in first} == {"a", "b"}
        ingest(runtime, [[row("a", at(9, 10), "/more"), row("c", at(9, 12))]])
        seen: list[str] = []

        def record(conn: object, cursor: object, statement: str, *args: object) -> None:
            seen.append(statement)

        event.listen(runtime.engine, "before_cursor_execute", record)
        try:
            with runtime.transaction() as s:
                found = open_now(s, period)
        finally:
            event.remove(runtime.engine, "before_cursor_execute", record)
        reads = [sql for sql in seen if "FROM events" in sql]
        assert len(reads) == 1
        assert "events.id >" in reads[0]  # only the new events
        assert "IN (SELECT" not in reads[0]
        by_key = {v.visitor_key: v for v in found}
        assert set(by_key) == {"a", "b", "c"}
        assert by_key["a"].page_views == {"/": 1, "/more": 1}
        assert by_key["a"].pageviews == 2
        assert_kept_equals_fresh(runtime)


def test_co5_a_late_visit_stored_since_is_not_taken_for_an_open_one(runtime: Runtime) -> None:
    period = Period(DAY, DAY)
    with fresh_site(runtime, 0.0):
        ingest(runtime, [[row("a", at(9)), row("b", at(11))]])  # watermark 10:30: a is final
        with runtime.transaction() as s:
            assert [v.visitor_key for v in open_now(s, period)] == ["b"]
        rollups.PERSIST_SECONDS = 3600.0
        # After the watermark's open_since (10:20) but before the watermark: final at once.
        ingest(runtime, [[row("z", at(10, 25))]])
        with runtime.transaction() as s:
            assert [v.visitor_key for v in open_now(s, period)] == ["b"]
        assert_kept_equals_fresh(runtime)
