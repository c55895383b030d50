"""The append-only events table and the record of journal segments already ingested."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from troth.db import Base

# On SQLite only INTEGER PRIMARY KEY is the rowid: appends stay cheap.
EVENT_ID = BigInteger().with_variant(Integer(), "sqlite")


class StoredEvent(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(EVENT_ID, primary_key=True, autoincrement=True)
    site: Mapped[str] = mapped_column(String(253))
    ts: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(120), default="")
    path: Mapped[str] = mapped_column(String(2000))
    title: Mapped[str] = mapped_column(String(300), default="")
    hostname: Mapped[str] = mapped_column(String(253), default="")
    referrer_host: Mapped[str] = mapped_column(String(253), default="")
    referrer_path: Mapped[str] = mapped_column(String(2000), default="")
    utm_source: Mapped[str] = mapped_column(String(200), default="")
    utm_medium: Mapped[str] = mapped_column(String(200), default="")
    utm_campaign: Mapped[str] = mapped_column(String(200), default="")
    utm_term: Mapped[str] = mapped_column(String(200), default="")
    utm_content: Mapped[str] = mapped_column(String(200), default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    language: Mapped[str] = mapped_column(String(16), default="")
    browser: Mapped[str] = mapped_column(String(64), default="")
    browser_version: Mapped[str] = mapped_column(String(16), default="")
    os: Mapped[str] = mapped_column(String(64), default="")
    os_version: Mapped[str] = mapped_column(String(16), default="")
    device: Mapped[str] = mapped_column(String(16), default="")
    visitor_key: Mapped[str] = mapped_column(String(64))
    cookieless: Mapped[bool] = mapped_column(Boolean)
    props: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    ip: Mapped[str] = mapped_column(String(120), default="")
    person_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    visit_id: Mapped[int] = mapped_column(BigInteger, default=0)
    """Set at ingest: events of one visitor less than 30 minutes apart share a visit."""

    __table_args__ = (
        Index("ix_events_site_ts", "site", "ts"),
        # Erasure finds a person's events through this index; most events have no person.
        Index(
            "ix_events_person_id",
            "person_id",
            sqlite_where=text("person_id IS NOT NULL"),
            postgresql_where=text("person_id IS NOT NULL"),
        ),
    )


class IngestedSegment(Base):
    """A journal segment whose events are in the table: replaying it after a crash is a no-op."""

    __tablename__ = "collect_segments"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    events: Mapped[int] = mapped_column(Integer)
    ingested_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
