"""Every query on the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from sqlalchemy import select, text
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

