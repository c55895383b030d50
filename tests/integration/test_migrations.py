"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text

from troth import migrate
from troth.db import SPILL_PAGES, make_engine
from troth.models import metadata
from troth.runtime import Runtime


def test_migrated_schema_matches_the_models(runtime: Runtime) -> None:
    with runtime.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


def test_every_model_table_exists(runtime: Runtime) -> None:
    tables = set(inspect(runtime.engine).get_table_names())
    assert set(metadata.tables) <= tables


def test_sqlite_runs_with_wal_secure_delete_and_a_batch_sized_spill(runtime: Runtime) -> None:
    if runtime.engine.dialect.name != "sqlite":
        return
    with runtime.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA secure_delete")).scalar() == 1
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert conn.execute(text("PRAGMA cache_spill")).scalar() == SPILL_PAGES


def add_state(conn: Connection, site: str) -> None:
    """A site's analytics state row, in the columns every version since 0012 has."""
    conn.execute(text(
        "INSERT INTO analytics_state (site, epoch, flushed_before, open_since, revision) "
        "VALUES (:site, 1, '2026-03-03 10:00:00', '2026-03-03 09:20:00', 0)"
    ), {"site": site})  # fmt: skip


def test_co5_upgrading_marks_settled_days_built_and_keeps_moving_ones_apart(
    tmp_path: Path,
) -> None:
    """Before 0014 pair rows were written as visits ended: the days settled then hold all
    their visits and are marked built; the moving day is not, and `blocks_since` says from
    when the waiting blocks hold every final visit."""
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate.upgrade(engine, "0013_analytics_day_columns")
    with engine.begin() as conn:
        add_state(conn, "s.example")
        for day in ("2026-03-01", "2026-03-02", "2026-03-03"):
            conn.execute(text(
                "INSERT INTO analytics_rollups VALUES ('s.example', '', '', '', :day, '', "
                "1, 1, 1, 1, 0)"
            ), {"day": day})  # fmt: skip
        conn.execute(text(
            "INSERT INTO analytics_day_columns (site, day, version, data) "
            "VALUES ('s.example', '2026-03-02', 3, NULL)"
        ))  # fmt: skip
    migrate.upgrade(engine)
    with engine.connect() as conn:
        days = conn.execute(text(
            "SELECT day, version, pairs FROM analytics_day_columns ORDER BY day"
        )).all()  # fmt: skip
        since = conn.execute(text("SELECT blocks_since FROM analytics_state")).scalar()
    assert [tuple(d) for d in days] == [("2026-03-01", 1, 1), ("2026-03-02", 3, 1)]
    assert str(since).startswith("2026-03-03 10:00:00")
    engine.dispose()


def test_co5_upgrading_marks_sites_whose_counts_hold_their_open_visits(tmp_path: Path) -> None:
    """Before 0015 every batch counted open visits too: each stored site is marked, so its
    ingester takes them out once; a site first stored later is not."""
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate.upgrade(engine, "0014_analytics_recent_visits")
    with engine.begin() as conn:
        add_state(conn, "s.example")
    migrate.upgrade(engine)
    with engine.begin() as conn:
        add_state(conn, "new.example")
        marked = conn.execute(text("SELECT site, open_counted FROM analytics_state")).all()
    assert sorted(tuple(m) for m in marked) == [("new.example", 0), ("s.example", 1)]
    engine.dispose()


def test_co5_upgrading_keeps_the_unfiltered_rows_of_days_stored_until_now(tmp_path: Path) -> None:
    """Before 0016 each watermark wrote the unfiltered rows of the days it touched: a stored
    site keeps that way until the day after tomorrow (an older process may still be running)
    and has its days' jobs write them from then on; a site first stored later has them
    written by its jobs from its first day."""
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate.upgrade(engine, "0015_analytics_open_counted")
    with engine.begin() as conn:
        add_state(conn, "s.example")
    before = dt.datetime.now(dt.UTC).date()
    migrate.upgrade(engine)
    after = dt.datetime.now(dt.UTC).date()
    with engine.begin() as conn:
        add_state(conn, "new.example")
        marked = dict(conn.execute(text("SELECT site, unfiltered_from FROM analytics_state")).all())
    assert marked["new.example"] is None
    assert marked["s.example"] in {
        (day + dt.timedelta(days=2)).isoformat() for day in (before, after)
    }  # fmt: skip
    engine.dispose()
