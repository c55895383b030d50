"""Daily rollups, unique-visitor sketches and the ingester's bookkeeping for analytics.

A rollup key is (site, day, filter_dim, filter_value, dimension, value). The unfiltered
figures have filter_dim "" and filter_value ""; the totals row has dimension "" and value "".
Rows with a filter are the pair rollups: the same figures counted only over the visits that
match one common filter (page, source, country or device).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from troth.db import Base

MAX_VALUE = 300
"""Longer dimension values are cut to this many characters (keys stay indexable)."""


# On SQLite the rows live in their primary key's B-tree: a day range is read in one pass.
CLUSTERED = {"sqlite_with_rowid": False}


class Rollup(Base):
    __tablename__ = "analytics_rollups"
    __table_args__ = CLUSTERED

    site: Mapped[str] = mapped_column(String(253), primary_key=True)
    filter_dim: Mapped[str] = mapped_column(String(16), primary_key=True)
    filter_value: Mapped[str] = mapped_column(String(MAX_VALUE), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    value: Mapped[str] = mapped_column(String(MAX_VALUE), primary_key=True)
    pageviews: Mapped[int] = mapped_column(BigInteger)
    events: Mapped[int] = mapped_column(BigInteger)
    visits: Mapped[int] = mapped_column(BigInteger)
    bounces: Mapped[int] = mapped_column(BigInteger)
    duration_us: Mapped[int] = mapped_column(BigInteger)
    """Sum of visit durations in microseconds (integers add up exactly)."""


class Sketch(Base):
    """A serialized HyperLogLog of the visitor keys behind one rollup key."""

    __tablename__ = "analytics_sketches"
    __table_args__ = CLUSTERED

    site: Mapped[str] = mapped_column(String(253), primary_key=True)
    filter_dim: Mapped[str] = mapped_column(String(16), primary_key=True)
    filter_value: Mapped[str] = mapped_column(String(MAX_VALUE), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    value: Mapped[str] = mapped_column(String(MAX_VALUE), primary_key=True)
    sketch: Mapped[bytes] = mapped_column(LargeBinary)


class SiteState(Base):
    """Per site: which visits the sketches already hold, and a token that says when to reload.

    Visits whose last event is before `flushed_before` are final: in their day's waiting
    blocks until its job writes its rollups and sketches (or in those, for a day built
    already); later ones are open and are read from raw events at query time. A recompute
    changes `epoch`, which tells the ingester to rebuild its in-memory visits from raw events.
    """

    __tablename__ = "analytics_state"

    site: Mapped[str] = mapped_column(String(253), primary_key=True)
    epoch: Mapped[int] = mapped_column(BigInteger)
    flushed_before: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    open_since: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    """No open visit starts before this: queries read raw events from here on."""
    revision: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """Goes up when a day before `open_since` changes (a late event), so answers cached for
    those days are dropped; a recompute changes `epoch` instead."""
    blocks_since: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    """Visits final since this time are in `RecentVisits` or built pair rollups; before it
    (an upgrade from a version that wrote pair rows as visits ended) they may be in pair rows
    only. None: since the site's first visit."""
    open_counted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """The unfiltered counts hold the open visits too (stored by a version that kept them
    current batch by batch): the ingester takes them out when it next loads the site."""
    unfiltered_from: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    """From this day on, a day's unfiltered rollups are written by its day's job, with its pair
    rollups; until then its final visits are read from its waiting blocks. Earlier days (an
    upgrade) had them written with each watermark. None: every day."""


class DayColumns(Base):
    """One settled day's visits as columns (`columns.py`), for filters the rollups do not hold.

    `version` goes up whenever the day changes (a late event, a recompute), which also empties
    `data`; a block is stored only under the version it was built from, so a change that lands
    while a block is being built is never hidden by it.

    `pairs` says the day's rollups and their sketches hold every final visit of the day (its
    pair ones, and its unfiltered ones from the site's `unfiltered_from` on): they are built
    once, when the day settles (`pair_days.py`). Until then its final visits wait in
    `RecentVisits`.
    """

    __tablename__ = "analytics_day_columns"

    site: Mapped[str] = mapped_column(String(253), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    pairs: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class RecentVisits(Base):
    """Final visits of a day whose rollups are not built yet, as a block of columns.

    Written with the watermark, so a visit is in exactly one place: open (read from raw
    events), here, or in the day's rollups (but on days before the site's `unfiltered_from`,
    whose unfiltered rows hold it too). A day's rows are merged into one now and then, and
    deleted when its rollups are built.
    """

    __tablename__ = "analytics_recent_visits"
    # Ids are never reused (AUTOINCREMENT on SQLite): a process knows the rows it has read
    # by their ids, and a day's rows are deleted and written again.
    __table_args__ = (
        Index("ix_analytics_recent_visits_site_day", "site", "day"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    site: Mapped[str] = mapped_column(String(253))
    day: Mapped[dt.date] = mapped_column(Date)
    visits: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    """The visits' columns (`columns.encode`)."""
    visitors: Mapped[bytes] = mapped_column(LargeBinary)
    """Their visitor keys, in row order (the sketches take keys, not the columns' hashes)."""
