"""Published policy versions: immutable rows, one per public version."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from troth.db import Base


class PolicyVersion(Base):
    __tablename__ = "policy_versions"

    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    last_updated: Mapped[dt.date] = mapped_column(Date)
    effective_date: Mapped[dt.date] = mapped_column(Date)
    published_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    published_by: Mapped[str] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(Text)
    """The YAML as published, comments and all."""
    declaration: Mapped[str] = mapped_column(Text)
    """Canonical JSON of the validated declaration; its sha256 is content_hash."""
