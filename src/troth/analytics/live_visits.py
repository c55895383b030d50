"""The visits not yet final, kept per process and brought up to date by the events since.

Every view adds its period's open visits (`scan.open_visits`): at 10M events a quarter some
900 visits and 2,000 events, which cost about 10 ms a view to read and replay. They are
replayed once per watermark instead, and a later view reads only the events stored since
then, by id.

That gives the visits a fresh replay would give, because:
- ids are committed in order: every writer of events holds the rollups lock
  (`repository.lock_rollups` on PostgreSQL; on SQLite every write transaction holds the
  database), and an event stored is not changed in place. Whatever deletes or changes
  events must change the site's epoch in the same transaction, as `recompute_day` does:
  the epoch is in the key (so is the revision, which a late event raises);
- a visit that is open now was open at the last read, or is new: the ingester adds events
  only to visits open in its memory, whose watermark is at or after the stored one, so such
  a visit had an event at or after the stored watermark already;
- a new visit with no event at or after the watermark is final (a late event's visit is
  final at once) and never becomes open: it is left out, as the replay leaves it out (the
  ingester writes it with the batch that brought it).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from troth.analytics import sessions
from troth.analytics.raw import RawVisit, as_raw
from troth.analytics.sessions import COLUMNS
from troth.analytics.visits import Visit, as_dicts, replay, utc
from troth.collect.models import StoredEvent as E

KEPT = 16
"""Watermarks and periods kept per process (least recently used go first)."""


@dataclass(frozen=True)
class Found:
    """Open visits as of the event `last_id` (never changed: a newer read makes a new one)."""

    last_id: int
    visits: dict[int, Visit]
    raw: dict[int, RawVisit]


_kept: OrderedDict[Hashable, Found] = OrderedDict()
_lock = threading.Lock()


def forget() -> None:
    with _lock:
        _kept.clear()


def current(
    session: Session, site: str, version: Hashable, since: dt.datetime, start: dt.datetime,
    end: dt.datetime,
) -> list[RawVisit]:  # fmt: skip
    """Visits with an event at or after `since`, replayed from their events in
    [start, end). `version`: what else they depend on (the site's epoch and revision)."""
    key = (sessions.database_of(session), site, version, since, start, end)
    with _lock:
        found = _kept.get(key)
    if found is None:
        rows = _rows(session, site, start, end, open_since=since)
        visits = {visit.visit_id: visit for visit in replay(rows)}
        last = max((int(row["id"]) for row in rows), default=0)
        found = Found(last, visits, {n: as_raw(visit) for n, visit in visits.items()})
    else:
        found = _newer(session, site, since, start, end, found)
    with _lock:
        _kept[key] = found
        _kept.move_to_end(key)
        while len(_kept) > KEPT:
            _kept.popitem(last=False)
    return list(found.raw.values())


def _newer(
    session: Session, site: str, since: dt.datetime, start: dt.datetime, end: dt.datetime,
    found: Found,
) -> Found:  # fmt: skip
    rows = _rows(session, site, start, end, after=found.last_id)
    if not rows:
        return found
    visits = dict(found.visits)
    changed: set[int] = set()
    new: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        number = int(row["visit_id"])
        if number not in visits:
            new.setdefault(number, []).append(row)
            continue
        if number not in changed:
            visits[number] = visits[number].copy()
            changed.add(number)
        visits[number].add(row, (utc(row["ts"]), int(row["id"])))
    for number, events in new.items():
        if any(utc(row["ts"]) >= since for row in events):
            visits[number] = replay(events)[0]
            changed.add(number)
    raw = dict(found.raw)
    raw.update({number: as_raw(visits[number]) for number in changed})
    return Found(int(rows[-1]["id"]), visits, raw)


def _rows(
    session: Session, site: str, start: dt.datetime, end: dt.datetime,
    open_since: dt.datetime | None = None, after: int | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    stmt = select(*COLUMNS).where(E.site == site, E.ts >= start, E.ts < end)
    if open_since is not None:
        opened = select(E.visit_id).where(E.site == site, E.ts >= open_since)
        stmt = stmt.where(E.visit_id.in_(opened.scalar_subquery()))
    if after is not None:
        stmt = stmt.where(E.id > after)
    return list(as_dicts(session.execute(stmt.order_by(E.id))))
