"""The age check of each person and the guardian consents asked for them (CH1).

The guardian's address is kept encrypted under the young person's key (erasing the person
erases it too), with a keyed blind index; links carry random tokens stored only as sha256.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from troth.db import Base

WHEN = DateTime(timezone=True)


class ConsentState(StrEnum):
    pending = "pending"
    consented = "consented"
    withdrawn = "withdrawn"
    replaced = "replaced"
    """A newer request was sent; this one's link no longer works."""


class AgeCheck(Base):
    """The last time the age rule was applied to a person, and whether it needs a human look."""

    __tablename__ = "age_checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), unique=True)
    threshold: Mapped[int] = mapped_column(SmallInteger)
    jurisdiction: Mapped[str | None] = mapped_column(String(8), default=None)
    """The jurisdiction the rule was applied for, as given."""
    matched: Mapped[str | None] = mapped_column(String(8), default=None)
    """The table entry the threshold came from; None: the default."""
    source: Mapped[str] = mapped_column(String(200))
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    held: Mapped[bool] = mapped_column(Boolean, default=False)
    checked_at: Mapped[dt.datetime] = mapped_column(WHEN)


class GuardianConsent(Base):
    """One request to a guardian, and what became of it."""

    __tablename__ = "guardian_consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16), default=ConsentState.pending.value)
    guardian_address: Mapped[bytes] = mapped_column(LargeBinary)
    guardian_digest: Mapped[str] = mapped_column(String(64), index=True)
    verify_hash: Mapped[str] = mapped_column(String(64), unique=True)
    verify_expires_at: Mapped[dt.datetime] = mapped_column(WHEN)
    requested_at: Mapped[dt.datetime] = mapped_column(WHEN)
    message_id: Mapped[str | None] = mapped_column(String(32), default=None)
    consented_at: Mapped[dt.datetime | None] = mapped_column(WHEN, default=None)
    method: Mapped[str | None] = mapped_column(String(32), default=None)
    """How the guardian was verified: "email link"."""
    policy_version: Mapped[int | None] = mapped_column(Integer, default=None)
    """The published policy version in force at consent (None: none was published yet)."""
    policy_last_updated: Mapped[dt.date | None] = mapped_column(Date, default=None)
    withdraw_hash: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(WHEN, default=None)
