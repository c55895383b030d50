"""The key store's SQLite file: private, durable, and erasing what it frees."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine

from troth.keys.files import make_private_dir
from troth.keys.tables import metadata

READ = "troth_key_store_read"
"""Execution option for reads: no explicit transaction, each statement is atomic on its own
(every read here is one statement), and no write lock is taken."""

_PRAGMAS = (
    "journal_mode=WAL",
    "secure_delete=ON",
    "synchronous=FULL",
    "busy_timeout=10000",
)


def open_engine(path: Path) -> Engine:
    make_private_dir(path.parent)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))  # SQLite's -wal/-shm copy the mode
    engine = create_engine(f"sqlite:///{path}", connect_args={"isolation_level": None})
    event.listen(engine, "connect", _pragmas)
    event.listen(engine, "begin", _begin)
    metadata.create_all(engine)
    return engine


def _pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in _PRAGMAS:
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _begin(conn: Any) -> None:
    # Writers take the lock at BEGIN so they queue instead of failing on upgrade.
    if not conn.get_execution_options().get(READ, False):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def checkpoint(engine: Engine) -> None:
    """Move the WAL into the file and truncate it, so freed key bytes leave the -wal file too."""
    raw = engine.raw_connection()
    try:
        raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()
