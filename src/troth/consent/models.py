"""The consent ledger: one immutable row per choice a visitor makes in the banner."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from troth.db import Base


class ConsentRecord(Base):
    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site: Mapped[str] = mapped_column(String(253))
    visitor_key: Mapped[str] = mapped_column(String(64))
    """The analytics cookie id, or a random id made for this one choice; never an IP."""
    analytics: Mapped[bool] = mapped_column(Boolean)
    marketing: Mapped[bool] = mapped_column(Boolean)
    policy_version: Mapped[int | None] = mapped_column(Integer)
    """The published policy version in force when the choice was made."""
    banner_version: Mapped[str] = mapped_column(String(16))
    """The hash of the banner text the visitor saw."""
    method: Mapped[str] = mapped_column(String(32))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_consent_records_visitor_key", "visitor_key"),
        Index("ix_consent_records_at", "at"),
    )
