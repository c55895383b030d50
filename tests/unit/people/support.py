"""Helpers shared by the people tests: a context with keys, and scans of the raw storage."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from troth.db import Base, is_sqlite
from troth.keys import ensure_master_key
from troth.people.context import PeopleContext, context_for
from troth.policy.guard import Actor, ActorKind
from troth.runtime import Runtime

ADMIN = Actor(id="console_user:1", roles=frozenset({"admin"}), kind=ActorKind.user)
SUPPORT = Actor(id="console_user:2", roles=frozenset({"support"}), kind=ActorKind.user)
MARKETING = Actor(id="console_user:3", roles=frozenset({"marketing"}), kind=ActorKind.user)


def people_context(runtime: Runtime) -> PeopleContext:
    ensure_master_key(runtime.settings)
    return context_for(runtime)


def raw_database_bytes(runtime: Runtime) -> bytes:
    """The SQLite file and its write-ahead log as they lie on disk; empty on PostgreSQL."""
    if not is_sqlite(runtime.engine):
        return b""
    database = runtime.engine.url.database
    assert database is not None
    files = [Path(database), Path(f"{database}-wal")]
    return b"".join(path.read_bytes() for path in files if path.exists())


def stored_rows(runtime: Runtime) -> list[tuple[str, object]]:
    """Every value of every table, read through the database (both backends)."""
    found: list[tuple[str, object]] = []
    with runtime.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(select(table)):
                found.extend((table.name, value) for value in row)
    return found


def storage_holds(runtime: Runtime, plaintext: str) -> list[str]:
    """Where the plaintext appears: table names, and 'file' for the raw SQLite bytes."""
    needle = plaintext.encode()
    places = ["file"] if needle in raw_database_bytes(runtime) else []
    for table, value in stored_rows(runtime):
        if (isinstance(value, bytes | memoryview) and needle in bytes(value)) or (
            value is not None and plaintext in str(value)
        ):
            places.append(table)
    return places
