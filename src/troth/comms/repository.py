"""Every query on the messages table."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from troth.comms.models import Message


def add(session: Session, message: Message) -> None:
    session.add(message)
    session.flush()


def get(session: Session, message_id: str) -> Message | None:
    return session.get(Message, message_id)


def for_person(session: Session, person_id: str) -> Sequence[Message]:
    stmt = select(Message).where(Message.person_id == person_id).order_by(Message.created_at)
    return session.scalars(stmt).all()


def to_address(session: Session, digest: str) -> Sequence[Message]:
    """Messages to an address, found by its blind index."""
    stmt = select(Message).where(Message.to_digest == digest).order_by(Message.created_at)
    return session.scalars(stmt).all()
