"""The outbox's one table: every email Troth queued, without a readable address or body.

The address and the template's values are sealed under the recipient's data key (or the
mail system key for someone who is not a person Troth keeps, such as a guardian), so
destroying a person's key erases their mail too. Subject and body are rendered at send time.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Boolean, DateTime, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from troth.db import Base


class MessageStatus(StrEnum):
    queued = "queued"
    sent = "sent"
    failed = "failed"


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    """A random hex id; also the left part of the Message-ID header."""
    kind: Mapped[str] = mapped_column(String(64))
    promotional: Mapped[bool] = mapped_column(Boolean)
    person_id: Mapped[str | None] = mapped_column(String(64))
    to_digest: Mapped[str] = mapped_column(String(64))
    """Blind index of the address (field "email"): equal addresses, equal digests."""
    recipient: Mapped[bytes] = mapped_column(LargeBinary)
    template: Mapped[str] = mapped_column(String(64))
    context: Mapped[bytes] = mapped_column(LargeBinary)
    """The template's values as JSON, sealed like the recipient."""
    status: Mapped[str] = mapped_column(String(16), default=MessageStatus.queued)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    """The failure's class and SMTP reply code, never an address."""

    __table_args__ = (
        Index("ix_messages_person_id", "person_id"),
        Index("ix_messages_to_digest", "to_digest"),
    )
