"""Final visits of the days whose rollups are not built yet, stored as blocks.

The ingester writes the visits that became final as one block per site and day with each
watermark (`add`); once the day settles, its job joins them into one block, builds the
day's rollups and visit columns from it and deletes them (`pair_days.py`). A dashboard adds
these visits to the rollups: each process keeps the blocks it has read and reads only the
new ones (`blocks`).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import lz4.frame
from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import Session

from troth.analytics import sessions
from troth.analytics.columns import (
    ColumnVisit,
    VisitColumns,
    Vocabulary,
    concat,
    decode,
    encode_block,
)
from troth.analytics.columns import from_visits as columns_of
from troth.analytics.models import RecentVisits
from troth.analytics.repository import plain_rows

MERGE_AT = 16
"""A day with this many rows has its rows of like size merged (a 5-second watermark would
otherwise leave some 17,000 small rows a day)..."""
TIER_ROWS = 8
"""...when this many hold about as many visits (within a factor of four). Merging like sizes
rewrites each visit a few times a day; merging every row of the day each time cost about
25 s a day at 10M events a quarter (93 ms to merge a 59k-visit day, every 32 watermarks)."""


@dataclass
class Block:
    """One stored row's visits, coded by the site's vocabulary, and their visitor keys."""

    day: dt.date
    columns: VisitColumns
    visitors: list[str]
    views: dict[Hashable, object] = field(default_factory=dict)
    """What filters made of it (`recent_part.py`): a stored row never changes."""


def add(session: Session, site: str, day: dt.date, visits: Sequence[ColumnVisit]) -> None:
    """Store visits of one day that are final, as a block of their own."""
    words = Vocabulary()
    add_block(session, site, columns_of(day, visits, words), words, [v.visitor_key for v in visits])


def add_block(
    session: Session, site: str, block: VisitColumns, words: Vocabulary, visitors: list[str]
) -> None:
    """`add` for visits already in columns (coded by `words`; `visitors`: each one's key)."""
    if not len(block):
        return
    day = block.day
    _insert(session, site, day, block, words, visitors)
    r = RecentVisits
    rows = session.execute(select(r.id, r.visits).where(r.site == site, r.day == day)).all()
    if len(rows) < MERGE_AT:
        return
    tiers: dict[int, list[int]] = defaultdict(list)
    for n, size in rows:
        tiers[int(size).bit_length() // 2].append(int(n))
    for ids in tiers.values():
        if len(ids) >= TIER_ROWS:
            _merge(session, site, day, ids)


def _insert(
    session: Session, site: str, day: dt.date, block: VisitColumns, words: Vocabulary,
    visitors: list[str],
) -> None:  # fmt: skip
    session.add(RecentVisits(
        site=site, day=day, visits=len(block), data=encode_block(block, words),
        visitors=_pack(visitors),
    ))  # fmt: skip
    session.flush()


def _merge(session: Session, site: str, day: dt.date, ids: list[int]) -> None:
    words = Vocabulary()
    block, visitors = _joined(session, day, RecentVisits.id.in_(ids), words)
    session.execute(delete(RecentVisits).where(RecentVisits.id.in_(ids)))
    _insert(session, site, day, block, words, visitors)


def day_block(
    session: Session, site: str, day: dt.date, words: Vocabulary
) -> tuple[VisitColumns, list[str]] | None:
    """All the day's waiting visits as one block coded by `words`, with their visitor keys
    (None when it has none)."""
    r = RecentVisits
    found = _joined(session, day, (r.site == site) & (r.day == day), words)
    return found if len(found[0]) else None


def _joined(
    session: Session, day: dt.date, where: ColumnElement[bool], words: Vocabulary
) -> tuple[VisitColumns, list[str]]:
    r = RecentVisits
    stmt = select(r.data, r.visitors).where(where).order_by(r.id)
    found = [(decode(day, data, words), _unpack(keys)) for data, keys in plain_rows(session, stmt)]
    if not found:
        return columns_of(day, [], words), []
    return concat([b for b, _ in found]), [key for _, keys in found for key in keys]


def forget_day(session: Session, site: str, day: dt.date) -> None:
    """The day's visits are now in its rollups (or are being written again)."""
    session.execute(delete(RecentVisits).where(RecentVisits.site == site, RecentVisits.day == day))


def _pack(visitors: list[str]) -> bytes:
    return bytes(lz4.frame.compress(json.dumps(visitors).encode()))


def _unpack(data: bytes) -> list[str]:
    found: list[str] = json.loads(lz4.frame.decompress(data))
    return found


# Reading: each process keeps what it has read, per database and site.

_kept: dict[tuple[str, str], tuple[Vocabulary, dict[int, Block]]] = {}
_lock = threading.Lock()


def forget() -> None:
    with _lock:
        _kept.clear()


def blocks(
    session: Session, site: str, start: dt.date, end: dt.date, words: Vocabulary
) -> list[Block]:
    """The stored blocks of days start..end, coded by `words`: the ones this process has not
    seen are read, the ones deleted since are dropped.

    The ids and the new blocks are two statements. On PostgreSQL each reads what was
    committed when it began, and a merge committing between them (it need not move the
    site's stamp, `queries.settled_read`) leaves ids without rows: the ids are read again."""
    r = RecentVisits
    key = (sessions.database_of(session), site)
    while True:
        ids = {int(n): day for n, day in session.execute(select(r.id, r.day).where(r.site == site))}
        with _lock:
            kept_words, kept = _kept.get(key, (words, {}))
            if kept_words is not words:
                kept = {}
            kept = {n: block for n, block in kept.items() if n in ids}
        wanted = [n for n, day in ids.items() if start <= day <= end and n not in kept]
        stmt = select(r.id, r.day, r.data, r.visitors).where(r.id.in_(wanted))
        found = plain_rows(session, stmt) if wanted else []
        if len(found) == len(wanted):
            break
    for n, day, data, visitors in found:
        kept[int(n)] = Block(day, decode(day, data, words), _unpack(visitors))
    with _lock:
        _kept[key] = (words, kept)
    return [block for n, block in sorted(kept.items()) if start <= block.day <= end]
