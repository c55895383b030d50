"""People and their encrypted values, blind indexes and payment tokens.

Nothing personal is stored in plaintext here except a person's coarse jurisdiction (a country
or subdivision code, needed to apply the age-of-majority rule without decrypting anyone) and
a payment method's brand, last four digits and expiry. Every column that links a row to a
person is indexed, so erasing a person is a few set-based statements.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from troth.db import Base

WHEN = DateTime(timezone=True)


class PersonStatus(StrEnum):
    active = "active"
    awaiting_guardian = "awaiting_guardian"
    suspended = "suspended"


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True)
    """A random UUID: used in URLs, audit entries and as the person's key id."""
    status: Mapped[str] = mapped_column(String(32), default=PersonStatus.active.value)
    jurisdiction: Mapped[str | None] = mapped_column(String(8), default=None)
    """ISO 3166-2 subdivision ("US-AL") or ISO 3166-1 country ("DE") where the person lives."""
    created_at: Mapped[dt.datetime] = mapped_column(WHEN)
    updated_at: Mapped[dt.datetime] = mapped_column(WHEN)


class PersonValue(Base):
    """One field of one person, encrypted under that person's key, with where it came from."""

    __tablename__ = "person_values"
    __table_args__ = (UniqueConstraint("person_id", "field"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(String(64))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    source: Mapped[str] = mapped_column(String(80))
    """given, automatic, or third_party:<data source id>."""
    method: Mapped[str] = mapped_column(String(128))
    """How it arrived: web_form, api, console, import:<name>, ..."""
    collected_at: Mapped[dt.datetime] = mapped_column(WHEN)


class PersonLookup(Base):
    """A keyed hash of an email or phone number: exact search without decrypting anyone."""

    __tablename__ = "person_lookups"
    __table_args__ = (
        UniqueConstraint("person_id", "field"),
        Index("ix_person_lookups_field_digest", "field", "digest"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64))


class PaymentMethod(Base):
    """A card kept as the processor's reference to it: never the number or the security code."""

    __tablename__ = "payment_methods"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    processor: Mapped[str] = mapped_column(String(64))
    """The id of a declared third party that receives card payment details."""
    token: Mapped[bytes] = mapped_column(LargeBinary)
    """The processor's reference, encrypted under the person's key."""
    brand: Mapped[str] = mapped_column(String(32))
    last4: Mapped[str] = mapped_column(String(4))
    exp_month: Mapped[int] = mapped_column(SmallInteger)
    exp_year: Mapped[int] = mapped_column(SmallInteger)
    created_at: Mapped[dt.datetime] = mapped_column(WHEN)
