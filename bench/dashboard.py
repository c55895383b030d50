"""Analytics dashboard: rollups vs raw events at 1M and 10M events, SQLite and PostgreSQL.

Builds synthetic traffic (90 days; Zipf pages and sources, ~60 countries, devices, ~8 %
custom events) through `store_rows` and the analytics hooks in large batches, keeps the
database for reuse (--keep), then times the dashboard for the last 30 days: the first view
(settled days not yet in memory) and a repeat view, unfiltered and with common filters, and
filters the rollups do not hold (visit columns; their blocks are built once, timed apart).

    .venv/bin/python bench/dashboard.py --events 1000000 --db sqlite --keep
    .venv/bin/python bench/dashboard.py --events 10000000 --db postgresql --keep
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pycountry
from sqlalchemy import create_engine, delete, func, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

import troth.analytics
import troth.models  # noqa: F401
from troth import collector, migrate
from troth.analytics import column_days, pair_days, parts, queries, raw, recent, rollups, scan
from troth.analytics.models import DayColumns, RecentVisits, Rollup, SiteState, Sketch
from troth.analytics.queries import Filters, Period
from troth.collect import ingest
from troth.collect.models import StoredEvent
from troth.db import make_engine
from troth.jobs.registry import registry
from troth.jobs.worker import run_once

SITE = "bench.example"
INGEST_SITE = "ingest.example"
END = dt.date(2026, 11, 30)
DAYS = 90
BATCH = 200_000
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
COUNTRIES = [c.alpha_2 for c in pycountry.countries][:60]
DEVICES = ["desktop", "mobile", "tablet"]
BROWSERS = ["Chrome", "Firefox", "Safari", "Edge", "Samsung Internet", "Opera"]
OSES = ["Windows", "macOS", "Android", "iOS", "Linux"]
LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "pt", "ja", "pl", "sv"]
NAMES = ["signup", "share", "download_pdf", "search", "add_to_cart", "checkout",
         "video_play", "invite", "export", "upgrade", "feedback", "login"]  # fmt: skip


def zipf(rng: random.Random, n: int, s: float = 1.1) -> int:
    """An index in [0, n), small ones far more likely (inverse-CDF of a power law)."""
    return min(n - 1, int(n ** rng.random() ** s) - 1) if n > 1 else 0


class Traffic:
    """Visits and their events, one day at a time, in time order."""

    def __init__(self, events: int, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.visits_per_day = int(events / DAYS / 2.2)  # ~2.2 events per visit
        self.visitors = max(1000, int(events * 0.25))

    def visitor(self, n: int) -> dict[str, Any]:
        r = random.Random(n)
        return {
            "visitor_key": f"{n:016x}", "country": COUNTRIES[zipf(r, 60, 1.3)],
            "device": r.choice(DEVICES), "browser": BROWSERS[zipf(r, 6)],
            "os": OSES[zipf(r, 5)], "language": LANGUAGES[zipf(r, 10)],
        }  # fmt: skip

    def day(self, day: dt.date) -> list[dict[str, Any]]:
        rng, rows = self.rng, []
        midnight = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
        for _ in range(self.visits_per_day):
            who = self.visitor(int(self.visitors * rng.random() ** 2))
            ts = midnight + dt.timedelta(seconds=rng.uniform(0, 86_400))
            source = "" if rng.random() < 0.5 else f"ref{zipf(rng, 300)}.example"
            campaign = f"camp{zipf(rng, 20)}" if rng.random() < 0.05 else ""
            for n in range(1 + min(int(rng.expovariate(0.6)), 30)):
                custom = n > 0 and rng.random() < 0.25
                rows.append(self.event(who, ts, source if n == 0 else "", campaign, custom))
                ts += dt.timedelta(seconds=rng.uniform(5, 400))
        rows.sort(key=lambda r: r["ts"])
        return rows

    def event(
        self, who: dict[str, Any], ts: dt.datetime, source: str, campaign: str, custom: bool
    ) -> dict[str, Any]:
        rng = self.rng
        return {
            "site": SITE, "ts": ts, "kind": "event" if custom else "pageview",
            "name": NAMES[zipf(rng, 12)] if custom else "", "path": f"/p/{zipf(rng, 800)}",
            "title": "", "hostname": SITE, "referrer_host": source, "referrer_path": "",
            "utm_source": "", "utm_medium": "", "utm_campaign": campaign, "utm_term": "",
            "utm_content": "", "browser_version": "", "os_version": "", "cookieless": True,
            "props": {"plan": rng.choice(["free", "pro"])} if custom else None, "ip": "",
            "person_id": None, "visit_id": 0, **who,
        }  # fmt: skip


def database(kind: str, events: int, keep: bool) -> tuple[Engine, bool]:
    """The engine and whether its data is already built."""
    if kind == "sqlite":
        path = Path(f"/tmp/troth-bench/dashboard-{events}.db")
        if path.exists() and not keep:
            path.unlink()
        engine = make_engine(f"sqlite:///{path}")
    else:
        name = f"troth_bench_{events}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
            if exists and not keep:
                conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
                exists = None
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        engine = make_engine(PG_ADMIN.rsplit("/", 1)[0] + f"/{name}")
    migrate.upgrade(engine)
    with Session(engine) as s:
        count = s.scalar(
            select(func.count()).select_from(StoredEvent).where(StoredEvent.site == SITE)
        )
    return engine, bool(count)


def build(engine: Engine, events: int) -> None:
    traffic, factory = Traffic(events), sessionmaker(engine)
    pending: list[dict[str, Any]] = []
    started, stored = time.perf_counter(), 0
    for n in range(DAYS):
        pending += traffic.day(END - dt.timedelta(days=DAYS - 1 - n))
        while len(pending) >= BATCH or (n == DAYS - 1 and pending):
            batch, pending = pending[:BATCH], pending[BATCH:]
            with factory() as session, session.begin():
                ingest.store_rows(session, batch)
            stored += len(batch)
            rate = stored / (time.perf_counter() - started)
            print(f"  built {stored:,} events ({rate:,.0f}/s)", flush=True)
    with factory() as session, session.begin():
        rollups.persist_now(session)
    with engine.connect() as conn:  # fresh statistics, as autovacuum would gather them later
        conn.execute(text("ANALYZE"))
        conn.commit()


def settle_days(engine: Engine) -> None:
    """Run the jobs the build queued as days settled (pair rollups and visit columns)."""
    factory = sessionmaker(engine, expire_on_commit=False)
    started, days = time.perf_counter(), 0
    while run_once(factory, registry, "bench", limit=1):
        days += 1
    if days:
        spent = time.perf_counter() - started
        print(f"  settled days' jobs: {days} in {spent:,.0f} s ({spent / days:.1f} s a day)")
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(0.95 * len(samples)))]


def report(engine: Engine, events: int, runs: int) -> Iterator[tuple[str, float, float]]:
    factory = sessionmaker(engine)
    period = Period(END - dt.timedelta(days=29), END)
    now = dt.datetime(END.year, END.month, END.day, 23, 59, tzinfo=dt.UTC)
    with factory() as s:
        yield ("baseline: SELECT 1", *timed(lambda: s.execute(text("SELECT 1")).all(), runs))
        board = queries.dashboard(s, SITE, period, now=now)
        country = board.breakdowns["country"][0].value
        page = board.breakdowns["page"][0].value
        print(
            f"  30 days: {board.totals.pageviews + 0:,} pageviews, {board.totals.visits:,} "
            f"visits, {board.totals.visitors:,} visitors (exact={board.totals.visitors_exact})"
        )

        def dash(
            filters: Filters, cold: bool = False, blocks: bool = False
        ) -> Callable[[], object]:
            def run() -> object:
                if cold:
                    parts.forget()
                if blocks:  # every kept block dropped: none of today's has been read yet
                    recent.forget()
                return queries.dashboard(s, SITE, period, filters, compare=True, now=now)

            return run

        cases = [
            ("no filter", Filters()),
            (f"country={country}", Filters((("country", country),))),
            (f"page={page}", Filters((("page", page),))),
        ]
        for name, filters in cases:
            yield (f"dashboard, rollups, {name}, first view", *timed(dash(filters, True), runs))
            yield (f"dashboard, rollups, {name}, repeat view", *timed(dash(filters), runs))
        yield ("dashboard, rollups, no filter, every waiting block read afresh",
               *timed(dash(Filters(), blocks=True), runs))  # fmt: skip
        yield from other_filters(s, dash, period, country, runs)
        if events <= 1_000_000:
            exact = raw.totals(s, SITE, period).visitors
            error = 100 * (board.totals.visitors - exact) / exact
            print(f"  visitors: sketch {board.totals.visitors:,}, exact {exact:,} ({error:+.2f} %)")
        counts = s.execute(text("SELECT COUNT(*) FROM analytics_rollups")).scalar()
        sketches = s.execute(text("SELECT COUNT(*) FROM analytics_sketches")).scalar()
        print(f"  rollup rows {counts:,}, sketch rows {sketches:,}")
    yield from ingest_cost(factory, now)


def other_filters(
    s: Session, dash: Callable[..., Callable[[], object]],
    period: Period, country: str, runs: int,
) -> Iterator[tuple[str, float, float]]:  # fmt: skip
    """Filters the rollups do not hold: visit columns for settled days, events for the rest."""
    days = [*period.previous().each_day(), *period.each_day()][:-1]  # the last day is moving
    t = time.perf_counter()
    built = column_days.build(s, SITE, days)  # in the reading session: SQLite has one writer
    s.commit()
    if built:
        spent = (time.perf_counter() - t) * 1000 / built
        yield (f"visit columns: build one settled day's block from events ({built} days)",
               spent, spent)  # fmt: skip
    for name, filters in (
        ("browser=Firefox", Filters((("browser", "Firefox"),))),
        (f"browser=Firefox and country={country}",
         Filters((("browser", "Firefox"), ("country", country)))),
    ):  # fmt: skip
        first = dash(filters, True)

        def cold(first: Callable[[], object] = first) -> object:
            column_days.forget()  # blocks read back from the database
            return first()

        yield (f"dashboard, visit columns, {name}, first view", *timed(cold, max(3, runs // 4)))
        yield (f"dashboard, visit columns, {name}, repeat view", *timed(dash(filters), runs))
    blocks, held = column_days.held()
    print(f"  visit columns in memory: {blocks} days, {held / 2**20:,.0f} MB")


def ingest_cost(
    factory: sessionmaker[Session], now: dt.datetime
) -> Iterator[tuple[str, float, float]]:
    """10k-event batches for another site, with the hooks and without them. The site starts
    empty each run, so a kept database gives the same figure run after run."""
    with factory() as session, session.begin():
        for table in (StoredEvent, Rollup, Sketch, SiteState, DayColumns, RecentVisits):
            session.execute(delete(table).where(table.site == INGEST_SITE))
    rollups.forget()
    traffic = Traffic(10_000 * 3 * DAYS, seed=11)
    days = (END - dt.timedelta(days=1), END)  # about 30k events a day: six batches
    rows = [dict(r, site=INGEST_SITE) for day in days for r in traffic.day(day)][:60_000]
    batches = [rows[i : i + 10_000] for i in range(0, len(rows), 10_000)]
    hooked: list[float] = []
    bare: list[float] = []
    saved = (list(ingest._before), list(ingest._after))
    for i, batch in enumerate(batches):
        if i % 2:
            ingest._before.clear()
            ingest._after.clear()
        t = time.perf_counter()
        with factory() as session, session.begin():
            ingest.store_rows(session, [dict(r) for r in batch])
        (bare if i % 2 else hooked).append((time.perf_counter() - t) * 1000)
        ingest._before[:], ingest._after[:] = saved
    yield ("store 10k events, hooks (visits assigned, final visits kept in memory)",
           statistics.median(hooked), max(hooked))  # fmt: skip
    t = time.perf_counter()
    with factory() as session, session.begin():
        rollups.persist_now(session)
    spent = (time.perf_counter() - t) * 1000 / (len(hooked) or 1)
    yield ("  + writing their waiting blocks (and the watermark), per 10k events", spent, spent)
    yield ("store 10k events, no hooks", statistics.median(bare), max(bare))
    yield from settle_cost(factory)
    with factory() as session, session.begin():
        ingest.store_rows(session, [dict(rows[0], site=SITE, ts=now, visitor_key="fresh")])
    t = time.perf_counter()
    with factory() as s:
        seen = queries.realtime_visitors(s, SITE, now + dt.timedelta(seconds=1))
        total = queries.totals(s, SITE, Period(END, END))
    delay = (time.perf_counter() - t) * 1000
    print(f"  after commit: realtime {seen}, today's pageviews {total.pageviews}")
    yield ("ingest-to-visible after commit (one query)", delay, delay)


def settle_cost(factory: sessionmaker[Session]) -> Iterator[tuple[str, float, float]]:
    """A settled day's job, as it finds the day: its final visits waiting in one block, no
    rollup rows yet (rolled back, so a kept database stays as built)."""
    day = END - dt.timedelta(days=1)
    with factory() as session:
        events = session.scalar(select(func.count()).select_from(StoredEvent).where(
            StoredEvent.site == SITE, StoredEvent.ts >= dt.datetime.combine(day, dt.time(), dt.UTC),
            StoredEvent.ts < dt.datetime.combine(END, dt.time(), dt.UTC),
        )) or 1  # fmt: skip
        for table in (Rollup, Sketch):
            session.execute(delete(table).where(table.site == SITE, table.day == day))
        visits = scan.load(session, SITE, Period(day, day))
        recent.forget_day(session, SITE, day)
        recent.add(session, SITE, day, visits)
        # Its visit columns are left stored (on PostgreSQL they are written in a transaction
        # of their own, which a rollback would not undo): the job encodes them, then finds them.
        session.execute(update(DayColumns).where(DayColumns.site == SITE, DayColumns.day == day)
                        .values(pairs=False))  # fmt: skip
        t = time.perf_counter()
        assert pair_days.build_day(session, SITE, day)
        spent = (time.perf_counter() - t) * 1000
        session.rollback()
    print(f"  one settled day: {events:,} events, {len(visits):,} visits")
    yield ("a settled day's job: its rollups and visit columns from its blocks", spent, spent)
    yield ("  the same, per 10k events of that day", spent * 10_000 / events, 0.0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="reuse a database already built")
    parser.add_argument("--analyze", action="store_true", help="refresh planner statistics")
    args = parser.parse_args()
    collector.tune()  # as `troth serve` runs its ingester and workers
    engine, built = database(args.db, args.events, args.keep)
    if not built or args.analyze:
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
    if not built:
        print(f"building {args.events:,} events on {args.db} ...", flush=True)
        t = time.perf_counter()
        build(engine, args.events)
        print(f"  built in {time.perf_counter() - t:,.0f} s", flush=True)
    settle_days(engine)
    print(f"\n{args.db}, {args.events:,} events, last 30 days, {args.runs} runs")
    print("| case | p50 ms | p95 ms |\n| --- | ---: | ---: |")
    for name, p50, p95 in report(engine, args.events, args.runs):
        print(f"| {name} | {p50:.1f} | {p95:.1f} |", flush=True)


if __name__ == "__main__":
    main()
