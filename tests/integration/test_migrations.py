"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from troth.models import metadata
from troth.runtime import Runtime


def test_migrated_schema_matches_the_models(runtime: Runtime) -> None:
    with runtime.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


def test_every_model_table_exists(runtime: Runtime) -> None:
    tables = set(inspect(runtime.engine).get_table_names())
    assert set(metadata.tables) <= tables


def test_sqlite_runs_with_wal_and_secure_delete(runtime: Runtime) -> None:
    if runtime.engine.dialect.name != "sqlite":
        return
    with runtime.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA secure_delete")).scalar() == 1
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
