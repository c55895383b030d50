"""Every query on the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from troth.audit.chain import Link
from troth.audit.models import AuditEntry

APPEND_LOCK = 0x74726F7468A1
"""The PostgreSQL advisory lock key that serializes appends (any constant would do)."""

LINK_COLUMNS = tuple(getattr(AuditEntry, field.name) for field in fields(Link))


def lock_for_append(session: Session) -> None:
    """Hold the append lock until the transaction ends, so two writers cannot fork the chain.

    SQLite needs nothing here: db.py begins every transaction with BEGIN IMMEDIATE, which
    already holds the database's single write lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK})


def head(session: Session) -> AuditEntry | None:
    return session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).first()


def add(session: Session, entry: AuditEntry) -> None:
    session.add(entry)
    session.flush()


def next_ids(session: Session, count: int, head_id: int) -> list[int]:
    """Ids for `count` new entries, in order, after the head's; only under the append lock.

    PostgreSQL draws them from the column's sequence, as a single insert would, so the
    sequence stays ahead for later appends. SQLite gives a new row the largest id plus one.
    """
    if session.get_bind().dialect.name != "postgresql":
        return list(range(head_id + 1, head_id + 1 + count))
    drawn = session.scalars(
        text(
            "SELECT nextval(pg_get_serial_sequence('audit_entries', 'id')) "
            "FROM generate_series(1, :count)"
        ),
        {"count": count},
    )
    return sorted(int(entry_id) for entry_id in drawn)


def add_many(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert whole rows (ids and hashes included) with one executemany."""
    session.execute(insert(AuditEntry), rows)


def links_after(session: Session, after_id: int, limit: int) -> list[tuple[Link, str]]:
    """The next `limit` entries after `after_id` in id order, as (hashed fields, stored hash)."""
    query = (
        select(AuditEntry.hash, *LINK_COLUMNS)
        .where(AuditEntry.id > after_id)
        .order_by(AuditEntry.id)
        .limit(limit)
    )
    return [_link(dict(row._mapping)) for row in session.execute(query)]


def _link(columns: dict[str, Any]) -> tuple[Link, str]:
    stored_hash = columns.pop("hash")
    return Link(**columns), stored_hash


def recent(session: Session, count: int) -> Sequence[AuditEntry]:
    """The last `count` entries, oldest first."""
    newest = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(count)
    return list(reversed(session.scalars(newest).all()))
