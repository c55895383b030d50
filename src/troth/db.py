"""Engine and session factory for SQLite (the embedded default) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from troth.errors import TrothError

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


SPILL_PAGES = 8000
"""Dirty pages a transaction keeps in memory (31 MiB of 4 KiB pages) before it writes them
to the WAL early. SQLite's default is its page cache, 2 MiB: an ingest batch of 10k events
writes about 4 MiB, and spilling it mid-transaction cost a third of its insert time
(bench/README.md). Not a multiple of 256: SQLite also reads the number as an on/off flag
from its low byte, and 8192 would turn spilling off altogether."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Pragmas are per connection. secure_delete overwrites freed pages so erased
    # values do not linger in the file; synchronous=FULL keeps commits durable.
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        "secure_delete=ON",
        "foreign_keys=ON",
        "synchronous=FULL",
        "busy_timeout=5000",
        f"cache_spill={SPILL_PAGES}",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # Take the write lock at BEGIN so two writers queue instead of failing on upgrade.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"isolation_level": None})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction, committed at the edge (a request, a command or a job).

    A TrothError may carry writes that must outlive the rollback (the audit entry of a
    denied access); they run in a transaction of their own once the failed one is gone.
    """
    with factory() as session:
        try:
            yield session
            session.commit()
        except TrothError as exc:
            session.rollback()
            _run_after_rollback(factory, exc)
            raise
        except BaseException:
            session.rollback()
            raise


def _run_after_rollback(factory: sessionmaker[Session], exc: TrothError) -> None:
    if not exc.after_rollback:
        return
    with factory() as session:
        for write in exc.after_rollback:
            write(session)
        session.commit()
