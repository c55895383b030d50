"""Shared fixtures: a migrated database on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from troth import migrate
from troth.config import Settings
from troth.db import Base, make_engine, make_session_factory
from troth.runtime import Runtime

pytest_plugins = ["tests.smtp_server"]

EXAMPLE_POLICY = Path(__file__).parents[1] / "src" / "troth" / "policy" / "example.yaml"
POSTGRES_ADMIN_URL = os.environ.get(
    "TROTH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _postgres_or_skip() -> Engine:
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        admin.dispose()
        reason = f"PostgreSQL not reachable at {make_url(POSTGRES_ADMIN_URL).host}: {exc}"
        if os.environ.get("CI"):
            pytest.fail(f"CI requires PostgreSQL: {reason}", pytrace=False)
        pytest.skip(reason)
    return admin


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    admin = _postgres_or_skip()
    name = f"troth_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _database_url(backend: str, request: pytest.FixtureRequest, tmp: Path) -> str:
    if backend == "postgresql":
        url: str = request.getfixturevalue("postgres_url")
        return url
    return f"sqlite:///{tmp / 'troth.db'}"


def _empty_all_tables(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(scope="session", params=BACKENDS)
def db_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A migrated database per backend, shared by the session and emptied after each test."""
    url = _database_url(request.param, request, tmp_path_factory.mktemp(request.param))
    engine = make_engine(url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def runtime(db_engine: Engine, tmp_path: Path) -> Iterator[Runtime]:
    """A Runtime on a migrated, empty database, with the example policy as its file."""
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(EXAMPLE_POLICY.read_text())
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=db_engine.url.render_as_string(hide_password=False),
        policy_file=policy_file,
    )
    yield Runtime(settings=settings, engine=db_engine, sessions=make_session_factory(db_engine))
    _empty_all_tables(db_engine)


@pytest.fixture(params=["event by event", "sorted"])
def assignment(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every batch's visits assigned event by event, or by sorting the batch
    (`sorted_batch.py`), whatever its size."""
    # Imported here: the support module registers the analytics ingest hooks, which tests
    # that do not ask for them must not get from this file.
    from tests.unit.analytics.support import assigned

    with assigned(str(request.param)):
        yield str(request.param)
