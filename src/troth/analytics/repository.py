"""Every statement on the analytics tables: upserts at ingest, reads for the dashboard."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Select, delete, func, select, text, tuple_, update
from sqlalchemy.orm import Session

from troth.analytics.models import Rollup, SiteState, Sketch
from troth.analytics.visits import Counts, Key

KEY = ("site", "filter_dim", "filter_value", "dimension", "day", "value")
COUNTS = ("pageviews", "events", "visits", "bounces", "duration_us")
CHUNK = 5_000
PG_TYPES = {
    "site": "text", "filter_dim": "text", "filter_value": "text", "dimension": "text",
    "day": "date", "value": "text", "sketch": "bytea", **dict.fromkeys(COUNTS, "bigint"),
}  # fmt: skip
PARAMETERS = 20_000
"""Values bound in one statement, well under both databases' limits (PostgreSQL 65,535;
SQLite 32,766 in a stock build)."""
LOCK_ID = 0x7472_6F74_6861_6E61  # any fixed 63-bit number: one writer of rollups at a time


def lock_rollups(session: Session) -> None:
    """Serialize rollup writers (ingest batches, day recomputes) on PostgreSQL.

    SQLite needs nothing: every write transaction there already holds the database lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": LOCK_ID})


@contextlib.contextmanager
def rollups_held_still(session: Session) -> Iterator[None]:
    """Keep rollup writers from committing meanwhile (PostgreSQL; SQLite's transaction holds
    the database already): every statement inside sees the same visits.

    A writer that holds the lock is waited for first. Writers take no other lock after this
    one (the audit lock a request may hold is never theirs), so no wait goes in a circle."""
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    session.execute(text("SELECT pg_advisory_lock_shared(:id)"), {"id": LOCK_ID})
    try:
        yield
    finally:
        session.execute(text("SELECT pg_advisory_unlock_shared(:id)"), {"id": LOCK_ID})


def _mark(session: Session) -> str:
    """The DB-API's parameter mark: psycopg's or sqlite3's."""
    return "%s" if session.get_bind().dialect.name == "postgresql" else "?"


def _upsert(
    session: Session, table: str, columns: Sequence[str], update_set: str,
    rows: list[tuple[Any, ...]],
) -> None:  # fmt: skip
    """INSERT … ON CONFLICT DO UPDATE for each row (no key twice: PostgreSQL refuses that).

    SQLite takes them through one executemany. PostgreSQL takes them as one array per column
    in a statement per CHUNK rows (`unnest`), sorted (by code point, near enough the index's
    order): an executemany there is a statement per row, 15-20 % slower for a watermark's
    few thousand keys."""
    # Table and column names are this module's constants; values go as parameters.
    names, key = ", ".join(columns), ", ".join(KEY)
    conflict = f"ON CONFLICT ({key}) DO UPDATE SET {update_set}"
    if session.get_bind().dialect.name != "postgresql":
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {table} ({names}) VALUES ({marks}) {conflict}"  # noqa: S608
        _write_many(session, sql, rows)
        return
    rows.sort()
    arrays = ", ".join(f"%b::{PG_TYPES[name]}[]" for name in columns)
    sql = f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) {conflict}"  # noqa: S608
    connection = session.connection()
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        connection.exec_driver_sql(sql, tuple(list(column) for column in zip(*chunk, strict=True)))


def _days(session: Session) -> Any:
    """How a date is written through the DB-API directly: SQLite keeps dates as ISO text."""
    if session.get_bind().dialect.name == "postgresql":
        return lambda day: day
    return functools.lru_cache(maxsize=4096)(dt.date.isoformat)


def _write_many(session: Session, sql: str, rows: list[tuple[Any, ...]]) -> None:
    connection = session.connection()
    for start in range(0, len(rows), CHUNK):
        connection.exec_driver_sql(sql, rows[start : start + CHUNK])


def _insert_new(
    session: Session, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """Rows whose keys are not in the table (their day's rows were just deleted): COPY on
    PostgreSQL, several times faster than inserting row by row; a plain INSERT on SQLite.

    They go in key order (a row starts with its key): a day's rows are spread over the whole
    primary key, which leads with the slice, and one walk along it touches each page once
    (a day's job at 10M events on PostgreSQL: 10.3-10.7 s, against 11.7-13.5 s unsorted)."""
    rows.sort()
    names = ", ".join(columns)
    if session.get_bind().dialect.name != "postgresql":
        marks = ", ".join("?" for _ in columns)
        _write_many(session, f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608
        return
    raw: Any = session.connection().connection.dbapi_connection
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def add_counts(
    session: Session, site: str, deltas: dict[Key, Counts], fresh: bool = False
) -> None:
    """Add each key's deltas to its row, creating it when missing (`fresh`: none exists)."""
    if not deltas:
        return
    day_of = _days(session)
    rows = [
        (site, fdim, fvalue, dim, day_of(day), value, *counts)
        for (day, fdim, fvalue, dim, value), counts in deltas.items()
    ]
    if fresh:
        _insert_new(session, "analytics_rollups", (*KEY, *COUNTS), rows)
        return
    update_set = ", ".join(f"{c} = analytics_rollups.{c} + excluded.{c}" for c in COUNTS)
    _upsert(session, "analytics_rollups", (*KEY, *COUNTS), update_set, rows)


def put_sketches(
    session: Session, sketches: Sequence[tuple[str, dt.date, tuple[str, str, str, str], bytes]],
    fresh: bool = False,
) -> None:  # fmt: skip
    if not sketches:
        return
    day_of = _days(session)
    rows = [
        (site, sub[0], sub[1], sub[2], day_of(day), sub[3], data)
        for site, day, sub, data in sketches
    ]
    if fresh:
        _insert_new(session, "analytics_sketches", (*KEY, "sketch"), rows)
        return
    _upsert(session, "analytics_sketches", (*KEY, "sketch"), "sketch = excluded.sketch", rows)


def some_sketches(
    session: Session, site: str, day: dt.date, keys: Iterable[tuple[str, str, str, str]]
) -> dict[tuple[str, str, str, str], bytes]:
    """The day's sketches of these (filter_dim, filter_value, dimension, value) keys."""
    s = Sketch
    found: dict[tuple[str, str, str, str], bytes] = {}
    wanted = sorted(keys)
    for start in range(0, len(wanted), 500):
        stmt = select(s.filter_dim, s.filter_value, s.dimension, s.value, s.sketch).where(
            s.site == site, s.day == day,
            tuple_(s.filter_dim, s.filter_value, s.dimension, s.value).in_(
                wanted[start : start + 500]
            ),
        )  # fmt: skip
        found.update({(f, fv, d, v): data for f, fv, d, v, data in session.execute(stmt)})
    return found


def set_watermark(
    session: Session, site: str, flushed_before: dt.datetime, open_since: dt.datetime
) -> None:
    values = {"flushed_before": flushed_before, "open_since": open_since}
    session.execute(update(SiteState).where(SiteState.site == site).values(**values))


def bump_revision(session: Session, site: str) -> None:
    session.execute(
        update(SiteState).where(SiteState.site == site).values(revision=SiteState.revision + 1)
    )


def state(session: Session, site: str) -> SiteState | None:
    return session.get(SiteState, site)


def unfiltered_by_job(state: SiteState | None, day: dt.date) -> bool:
    """Whether the day's unfiltered rollups are written by its day's job (its final visits
    wait in blocks until then), not with each watermark (days before an upgrade)."""
    return state is None or state.unfiltered_from is None or day >= state.unfiltered_from


def read_state(session: Session, site: str) -> SiteState | None:
    """The site's state as stored now, for a query (not the copy the session may hold)."""
    return session.get(SiteState, site, populate_existing=True)


def stamp(session: Session, site: str) -> tuple[Any, ...] | None:
    """What says where a site's visits are (epoch, revision, watermark, whether the counts hold
    open visits). It changes whenever a visit moves from waiting to the day's rollups or is
    recomputed, with the watermark that moves visits from open to waiting, and
    when an event comes too late for that (the revision goes up). A merge of waiting blocks
    moves nothing: `recent.blocks` reads around it."""
    s = SiteState
    row = session.execute(
        select(s.epoch, s.revision, s.flushed_before, s.open_since, s.open_counted).where(
            s.site == site
        )
    ).first()
    return None if row is None else tuple(row)


def states(session: Session, sites: Sequence[str]) -> dict[str, SiteState]:
    if not sites:
        return {}
    found = session.scalars(select(SiteState).where(SiteState.site.in_(list(sites))))
    return {state.site: state for state in found}


def delete_day(session: Session, site: str, day: dt.date) -> None:
    for table in (Rollup, Sketch):
        session.execute(delete(table).where(table.site == site, table.day == day))


def sites(session: Session) -> list[str]:
    return list(session.scalars(select(SiteState.site).order_by(SiteState.site)))


# Reads for the dashboard -------------------------------------------------------------------


def _sums() -> list[Any]:
    return [func.sum(getattr(Rollup, name)).label(name) for name in COUNTS]


def _slice(
    stmt: Select[Any], site: str, filter_: tuple[str, str], start: dt.date, end: dt.date
) -> Select[Any]:
    r = Rollup
    return stmt.where(
        r.site == site, r.filter_dim == filter_[0], r.filter_value == filter_[1],
        r.day >= start, r.day <= end,
    )  # fmt: skip


def total_counts(
    session: Session, site: str, filter_: tuple[str, str], start: dt.date, end: dt.date
) -> Counts:
    row = session.execute(
        _slice(select(*_sums()), site, filter_, start, end).where(Rollup.dimension == "")
    ).one()
    return _counts(row)


def daily_counts(
    session: Session, site: str, filter_: tuple[str, str], start: dt.date, end: dt.date
) -> dict[dt.date, Counts]:
    stmt = _slice(select(Rollup.day, *_sums()), site, filter_, start, end)
    rows = session.execute(stmt.where(Rollup.dimension == "").group_by(Rollup.day))
    return {row[0]: _counts(row[1:]) for row in rows}


def value_counts(
    session: Session, site: str, filter_: tuple[str, str], dimension: str,
    start: dt.date, end: dt.date,
) -> list[tuple[str, Counts]]:  # fmt: skip
    """Every value of the dimension with its summed counts, most visits first."""
    visits = func.sum(Rollup.visits)
    stmt = _slice(select(Rollup.value, *_sums()), site, filter_, start, end)
    stmt = stmt.where(Rollup.dimension == dimension).group_by(Rollup.value)
    stmt = stmt.having(visits > 0).order_by(visits.desc(), Rollup.value)
    return [(row[0], _counts(row[1:])) for row in session.execute(stmt)]


def all_value_counts(
    session: Session, site: str, filter_: tuple[str, str], dimensions: Sequence[str],
    start: dt.date, end: dt.date,
) -> dict[str, dict[str, Counts]]:  # fmt: skip
    """dimension -> value -> summed counts, for every value with a visit, in one query.

    Written for the DB-API directly: the dashboard reads thousands of these rows per view,
    and plain tuples cost a fraction of ORM rows.
    """
    mark = _mark(session)
    day_of = _days(session)
    sums = ", ".join(f"SUM({name})" for name in COUNTS)
    # One branch per dimension, so each reads one contiguous key range (site, slice,
    # dimension, days) on both databases. Names are this module's constants; every value
    # goes as a parameter.
    branch = (
        f"SELECT dimension, value, {sums} FROM analytics_rollups "  # noqa: S608
        f"WHERE site = {mark} AND filter_dim = {mark} AND filter_value = {mark} "
        f"AND dimension = {mark} AND day >= {mark} AND day <= {mark} "
        "GROUP BY dimension, value HAVING SUM(visits) > 0"
    )
    sql = " UNION ALL ".join(branch for _ in dimensions)
    params = tuple(
        p for d in dimensions for p in (site, *filter_, d, day_of(start), day_of(end))
    )
    found: dict[str, dict[str, Counts]] = {dimension: {} for dimension in dimensions}
    rows = session.connection().exec_driver_sql(sql, params).fetchall()
    for dimension, value, a, b, c, d, e in rows:
        found[dimension][value] = (int(a), int(b), int(c), int(d), int(e))
    return found


def value_sketch_bytes(
    session: Session, site: str, filter_: tuple[str, str], wanted: dict[str, list[str]],
    start: dt.date, end: dt.date,
) -> list[tuple[str, str, bytes]]:  # fmt: skip
    """The daily sketches of the wanted (dimension, value) pairs, in one query (or a few, for
    a breakdown paged far: a statement takes at most PARAMETERS values).

    Written for the DB-API, as `all_value_counts` is: a view asks for some 300 values, and
    building and compiling that statement through the ORM cost more than running it. On
    PostgreSQL the sketches come back in binary form, half the bytes of bytea's text form.
    """
    mark, day_of = _mark(session), _days(session)
    pairs = [(dimension, value) for dimension, values in wanted.items() for value in values]
    found: list[tuple[str, str, bytes]] = []
    for first in range(0, len(pairs), PARAMETERS):
        chunk: dict[str, list[str]] = {}
        for dimension, value in pairs[first : first + PARAMETERS]:
            chunk.setdefault(dimension, []).append(value)
        branches: list[str] = []
        params: list[Any] = []
        for dimension, values in chunk.items():  # one key range per dimension, as above
            marks = ", ".join(mark for _ in values)
            branches.append(
                "SELECT dimension, value, sketch FROM analytics_sketches "  # noqa: S608
                f"WHERE site = {mark} AND filter_dim = {mark} AND filter_value = {mark} "
                f"AND dimension = {mark} AND day >= {mark} AND day <= {mark} "
                f"AND value IN ({marks})"
            )
            params += [site, *filter_, dimension, day_of(start), day_of(end), *values]
        found += _driver_rows(session, " UNION ALL ".join(branches), params)
    return found


def _driver_rows(session: Session, sql: str, params: list[Any]) -> list[tuple[str, str, bytes]]:
    if session.get_bind().dialect.name != "postgresql":
        rows = session.connection().exec_driver_sql(sql, tuple(params)).fetchall()
        return [(dim, value, data) for dim, value, data in rows]
    raw: Any = session.connection().connection.dbapi_connection
    with raw.cursor(binary=True) as cursor:
        cursor.execute(sql, params)
        return [(dim, value, bytes(data)) for dim, value, data in cursor.fetchall()]


def sketch_bytes(
    session: Session, site: str, filter_: tuple[str, str], dimension: str,
    start: dt.date, end: dt.date, values: Sequence[str] | None = None,
) -> list[tuple[dt.date, str, bytes]]:  # fmt: skip
    s = Sketch
    stmt = select(s.day, s.value, s.sketch).where(
        s.site == site, s.filter_dim == filter_[0], s.filter_value == filter_[1],
        s.dimension == dimension, s.day >= start, s.day <= end,
    )  # fmt: skip
    if values is not None:
        stmt = stmt.where(s.value.in_(list(values)))
    return [(day, value, data) for day, value, data in session.execute(stmt)]


def plain_rows(session: Session, stmt: Any) -> list[tuple[Any, ...]]:
    """A statement's rows as tuples. On PostgreSQL through a binary cursor: large blobs in
    bytea's text form are twice the size and parsed character by character (a month's
    visit columns are some 70 MB); small ones gain nothing for the extra compile."""
    if session.get_bind().dialect.name != "postgresql":
        return [tuple(row) for row in session.execute(stmt)]
    compiled = stmt.compile(
        dialect=session.get_bind().dialect, compile_kwargs={"render_postcompile": True}
    )
    raw = session.connection().connection.dbapi_connection
    with raw.cursor(binary=True) as cursor:  # type: ignore[union-attr]
        cursor.execute(str(compiled), compiled.params)
        return list(cursor.fetchall())


def _counts(row: Sequence[Any]) -> Counts:
    pv, ev, visits, bounces, duration = (int(x or 0) for x in row)
    return pv, ev, visits, bounces, duration
