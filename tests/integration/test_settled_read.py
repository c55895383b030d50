"""CO5: an answer whose site keeps moving under it is read a last time with writers held off.

PostgreSQL only: each statement sees what was committed when it began, and a rollup writer
(an ingest batch, a day's job, a recompute) committing between two statements of an answer
could count visits twice. On SQLite the request's transaction holds the database already.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from sqlalchemy import text, update

from tests.unit.analytics.support import SITE, clean, ingest, row
from troth.analytics import queries, repository
from troth.analytics.models import SiteState
from troth.runtime import Runtime

NINE = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)


def move_the_stamp(runtime: Runtime) -> None:
    """A rollup writer's commit: it takes the writers' lock and moves the site's revision."""
    with runtime.transaction() as s:
        repository.lock_rollups(s)
        s.execute(
            update(SiteState).where(SiteState.site == SITE).values(revision=SiteState.revision + 1)
        )


def writer_waits(runtime: Runtime, seconds: float = 10.0) -> bool:
    """Whether a session waits for an advisory lock (polled: the writer runs in a thread)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with runtime.engine.connect() as conn:
            waiting = conn.execute(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            )).scalar()  # fmt: skip
        if waiting:
            return True
        time.sleep(0.02)
    return False


@pytest.mark.parametrize(
    "db_engine", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_co5_the_last_read_of_a_moving_answer_holds_the_writers_off(runtime: Runtime) -> None:
    clean(runtime)
    try:
        ingest(runtime, [[row("a", NINE, "/")]])
        attempts: list[int] = []
        writer = threading.Thread(target=move_the_stamp, args=(runtime,))

        def answer() -> int:
            attempts.append(len(attempts))
            if len(attempts) < queries.READS:
                move_the_stamp(runtime)  # commits while the answer is being read
            else:
                writer.start()  # must wait until this last read ends
                waiting.append(writer_waits(runtime))
            return len(attempts)

        waiting: list[bool] = []
        with runtime.transaction() as s:
            assert queries.settled_read(s, SITE, answer) == queries.READS
        writer.join(timeout=10)
        assert waiting == [True]
        assert not writer.is_alive()  # it went on once the read was over
    finally:
        clean(runtime)
