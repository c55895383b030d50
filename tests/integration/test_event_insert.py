"""A batch written by `insert_events` is stored exactly as SQLAlchemy's own insert stores it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, insert, text

from troth.collect.event_insert import EVENTS, insert_events

FULL = {
    "site": "a.example", "kind": "pageview", "name": "", "path": "/p", "title": "T",
    "hostname": "a.example", "referrer_host": "r.example", "referrer_path": "/x",
    "utm_source": "s", "utm_medium": "m", "utm_campaign": "c", "utm_term": "t",
    "utm_content": "k", "country": "DE", "language": "de", "browser": "Firefox",
    "browser_version": "120", "os": "Linux", "os_version": "", "device": "desktop",
    "visitor_key": "v1", "cookieless": False, "ip": "", "person_id": None, "visit_id": 7,
}  # fmt: skip
MOMENTS = [
    dt.datetime(2026, 11, 3, 9, 15, 0, tzinfo=dt.UTC),  # no fraction of a second
    dt.datetime(2026, 11, 3, 9, 15, 1, 120, tzinfo=dt.UTC),
    dt.datetime(2026, 11, 3, 23, 59, 59, 999_999),  # naive
    dt.datetime(987, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=-7))),  # wall time
    dt.datetime(2026, 11, 3, 9, 15),  # naive, no fraction
]
PROPS: list[Any] = [None, {"plan": "pro", "n": 1, "ü": [1, 2]}, {}, [], {"n": 3}]


def _rows() -> list[dict[str, Any]]:
    rows = []
    for n, (ts, props) in enumerate(zip(MOMENTS, PROPS, strict=True)):
        rows.append({**FULL, "ts": ts, "props": props, "cookieless": bool(n % 2)})
    rows.append({"site": "a.example", "ts": MOMENTS[1], "kind": "event", "path": "/q",
                 "visitor_key": "v2", "cookieless": True, "props": None})  # fmt: skip
    rows.append({"site": "a.example", "ts": MOMENTS[2], "kind": "pageview", "path": "/r",
                 "visitor_key": "v3", "cookieless": False})  # no props at all: NULL  # fmt: skip
    return rows


def _stored(engine: Engine, site: str) -> list[tuple[Any, ...]]:
    names = ", ".join(c.name for c in EVENTS.columns if c.name not in ("id", "site"))
    with engine.connect() as conn:
        # Read as text, so the stored form is compared, not what the driver makes of it.
        casts = ", ".join(f"CAST({n} AS TEXT)" for n in names.split(", "))
        query = f"SELECT {casts} FROM events WHERE site = :s ORDER BY id"
        return [tuple(row) for row in conn.execute(text(query), {"s": site})]


def test_fast_insert_stores_what_an_ordinary_insert_stores(db_engine: Engine) -> None:
    ours = _rows()
    theirs = [{**row, "site": "b.example"} for row in _rows()]
    with db_engine.begin() as conn:
        if db_engine.dialect.name == "postgresql":  # naive times: UTC, as ours takes them
            conn.execute(text("SET LOCAL TimeZone = 'UTC'"))
        insert_events(conn, ours)
        for row in theirs:  # one statement per row: each takes its own missing defaults
            conn.execute(insert(EVENTS), [row])
    assert _stored(db_engine, "a.example") == _stored(db_engine, "b.example")
    stored = _stored(db_engine, "a.example")
    assert len(stored) == 7
    names = [c.name for c in EVENTS.columns if c.name not in ("id", "site")]
    props, ts = names.index("props"), names.index("ts")
    assert [row[props] for row in stored[2:4]] == ["{}", "[]"]
    assert [row[props] for row in stored[5:]] == ["null", None]  # given as None; left out
    if db_engine.dialect.name == "sqlite":  # the text written here, not by the driver
        assert [row[ts] for row in stored[3:5]] == [
            "0987-01-02 03:04:05.000000",
            "2026-11-03 09:15:00.000000",
        ]
    with db_engine.begin() as conn:
        conn.execute(EVENTS.delete())


def test_a_naive_time_is_stored_as_utc_whatever_the_session_zone(db_engine: Engine) -> None:
    naive = dt.datetime(2026, 11, 3, 9, 15, 1, 120)
    rows = [{**FULL, "ts": ts, "props": None} for ts in (naive, naive.replace(tzinfo=dt.UTC))]
    with db_engine.begin() as conn:
        if db_engine.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL TimeZone = 'America/New_York'"))
        insert_events(conn, rows)
    with db_engine.begin() as conn:
        stored = conn.execute(text("SELECT ts FROM events ORDER BY id")).scalars().all()
        conn.execute(EVENTS.delete())
    assert stored[0] == stored[1]
