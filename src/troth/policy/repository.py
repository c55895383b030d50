"""Every query on published policy versions."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session, load_only

from troth.policy.models import PolicyVersion


def latest(session: Session) -> PolicyVersion | None:
    query = select(PolicyVersion).order_by(PolicyVersion.number.desc()).limit(1)
    return session.scalars(query).first()


def latest_number(session: Session) -> int:
    return session.scalar(select(func.max(PolicyVersion.number))) or 0


def by_number(session: Session, number: int) -> PolicyVersion | None:
    return session.get(PolicyVersion, number)


def by_hash(session: Session, content_hash: str) -> PolicyVersion | None:
    query = select(PolicyVersion).where(PolicyVersion.content_hash == content_hash)
    return session.scalars(query).first()


def newest_first(session: Session) -> Sequence[PolicyVersion]:
    """Every version without its (large) source and declaration texts."""
    summary = load_only(
        PolicyVersion.number,
        PolicyVersion.content_hash,
        PolicyVersion.last_updated,
        PolicyVersion.effective_date,
        PolicyVersion.published_at,
        PolicyVersion.published_by,
    )
    query = select(PolicyVersion).options(summary).order_by(PolicyVersion.number.desc())
    return session.scalars(query).all()


def add(session: Session, version: PolicyVersion) -> None:
    session.add(version)
    session.flush()
