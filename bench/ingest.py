"""The ingester's cost per 10k events: inserting them, and keeping the analytics current.

A fresh database takes a few days of the dashboard bench's synthetic traffic (about 30k
events a day) in 10k-event batches through `store_rows`, as the ingester stores a journal's
events: each batch with the analytics hooks (visits assigned), then the watermark's write
every fifth batch (`rollups.persist_now`: the final visits' waiting blocks), as a busy
site's ingester writes it every 5 seconds. The same batches go to a second site with the
hooks off, for the insert alone. "hooks" is the time spent in the hook functions, timed
around them (not what their writes add to the commit). Until commit 3e03ecc it was the hooked
batch's time less the bare one's; on SQLite that read 7–9 ms per 10k below the hooks' own
time. Then the jobs of the days
that settled run (each builds its day's rollups once), timed apart: "days' jobs" is their
time per 10k of all the events stored.

    .venv/bin/python bench/ingest.py --db sqlite --rounds 3
    .venv/bin/python bench/ingest.py --db postgresql --rounds 3

Run it with `PYTHONPATH=<an older checkout>/src` for that version's figures: it only uses
`store_rows` and `persist_now`.

`--per-day 1000000 --days 1 --batch 500` is a busy site's ingester instead: small batches,
each taken while some 13,000 visits are open.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import troth
import troth.analytics  # registers the hooks
import troth.models
from bench.dashboard import DAYS, END, Traffic
from troth import collector, migrate
from troth.analytics import repository, rollups
from troth.analytics.visits import CUSTOM, DIRECT, PAGEVIEW, Counts, Key
from troth.collect import ingest
from troth.db import make_engine
from troth.jobs.registry import registry
from troth.jobs.worker import run_once

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BATCH = 10_000
PERSIST_EVERY = 5
BRIEF_COLUMNS = (
    ("page", "path"), ("source", "referrer_host"), ("utm_source", "utm_source"),
    ("utm_medium", "utm_medium"), ("utm_campaign", "utm_campaign"), ("browser", "browser"),
    ("os", "os"), ("device", "device"), ("language", "language"), ("country", "country"),
)  # fmt: skip


def brief_upsert(session: Any, site: str, rows: list[dict[str, Any]]) -> None:
    """The brief's mechanism, in its cheapest form: the batch's page views and events summed
    per day and dimension value in Python, then upserted in one statement by the same code
    the rollups use. It counts no visits, bounces or durations (those need the visits that
    the hooks assign), so it costs less than what the brief timed at 52–55 ms."""
    sums: dict[Key, list[int]] = {}
    for row in rows:
        day = row["ts"].date()
        pageview = int(row["kind"] == PAGEVIEW)
        keys = [(day, "", "", "", "")]
        keys += [(day, "", "", dim, str(row[column] or "")) for dim, column in BRIEF_COLUMNS]
        if not row["referrer_host"]:
            keys[2] = (day, "", "", "source", DIRECT)
        if row["kind"] == CUSTOM:
            keys.append((day, "", "", "event", str(row["name"])))
        for key in keys:
            found = sums.get(key)
            if found is None:
                sums[key] = [pageview, 1]
            else:
                found[0] += pageview
                found[1] += 1
    counts: dict[Key, Counts] = {k: (v[0], v[1], 0, 0, 0) for k, v in sums.items()}
    repository.add_counts(session, site, counts)


def database(kind: str, work: Path) -> Engine:
    if kind == "sqlite":
        engine = make_engine(f"sqlite:///{work / 'ingest.db'}")
    else:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS troth_bench_ingest WITH (FORCE)"))
            conn.execute(text("CREATE DATABASE troth_bench_ingest"))
        admin.dispose()
        engine = make_engine(PG_ADMIN.rsplit("/", 1)[0] + "/troth_bench_ingest")
    migrate.upgrade(engine)
    return engine


def one_round(kind: str, days: int, per_day: int, size: int) -> dict[str, float]:
    traffic = Traffic(per_day * DAYS, seed=11)
    rows = [
        dict(r, site="ingest.example")
        for n in range(days - 1, -1, -1)
        for r in traffic.day(END - dt.timedelta(days=n))
    ]
    batches = [rows[i : i + size] for i in range(0, len(rows) - size + 1, size)]
    # The traffic is built ahead; an ingester holds one batch at a time. Frozen, as a serving
    # process freezes what it built at start, so the collector does not walk it again and
    # again (that had added about 5 ms per 10k events to the hooks).
    collector.tune()
    with tempfile.TemporaryDirectory() as work:
        engine = database(kind, Path(work))
        factory = sessionmaker(engine)
        rollups.forget()
        rollups.PERSIST_SECONDS = float("inf")  # written every PERSIST_EVERY batches instead
        hooked, hooks, written, bare, brief = [], [], [], [], []
        saved = (list(ingest._before), list(ingest._after))
        spent = [0.0]

        def timed(hook: Any) -> Any:
            def run(session: Any, rows: Any) -> None:
                started = time.perf_counter()
                try:
                    hook(session, rows)
                finally:
                    spent[0] += time.perf_counter() - started

            return run

        timed_hooks = ([timed(h) for h in saved[0]], [timed(h) for h in saved[1]])
        for n, batch in enumerate(batches, start=1):
            ingest._before[:], ingest._after[:] = timed_hooks
            spent[0] = 0.0
            t = time.perf_counter()
            with factory() as session, session.begin():
                ingest.store_rows(session, [dict(r) for r in batch])
            hooked.append(time.perf_counter() - t)
            hooks.append(spent[0])
            if n % PERSIST_EVERY == 0:
                t = time.perf_counter()
                with factory() as session, session.begin():
                    rollups.persist_now(session)
                written.append((time.perf_counter() - t) / PERSIST_EVERY)
            ingest._before.clear()
            ingest._after.clear()
            t = time.perf_counter()
            with factory() as session, session.begin():
                ingest.store_rows(session, [dict(r, site="bare.example") for r in batch])
            bare.append(time.perf_counter() - t)
            with factory() as session, session.begin():
                t = time.perf_counter()
                brief_upsert(session, "brief.example", batch)
                brief.append(time.perf_counter() - t)
            ingest._before[:], ingest._after[:] = saved
        with factory() as session, session.begin():
            rollups.persist_now(session)  # the last watermark: the days before it settle
        t = time.perf_counter()
        while run_once(sessionmaker(engine, expire_on_commit=False), registry, "bench", limit=10):
            pass
        jobs = time.perf_counter() - t
        engine.dispose()
    ms: Any = lambda values: statistics.median(values) * 1000 * BATCH / size  # noqa: E731
    return {
        "insert": ms(bare),
        "hooks": ms(hooks),
        "write": ms(written),
        "upkeep": ms(hooks) + ms(written),
        "brief": ms(brief),
        "ratio": (ms(hooks) + ms(written)) / ms(brief),
        "total": ms(hooked) + ms(written),
        "jobs": jobs * 1000 * BATCH / len(rows),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--days", type=int, default=5, help="days of traffic (~30k events each)")
    parser.add_argument("--per-day", type=int, default=30_000, help="events a day")
    parser.add_argument("--batch", type=int, default=BATCH, help="events a batch")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    collector.tune()  # as `troth serve` runs its ingester
    source = Path(troth.__file__).resolve().parents[1]
    print(f"code: {source}; {args.db}; ms per 10k events (median of the batches)")
    print(
        "| round | insert | hooks | write | upkeep (hooks + write) | brief's upsert "
        "| upkeep ÷ brief's | total | days' jobs |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for n in range(1, args.rounds + 1):
        found = one_round(args.db, args.days, args.per_day, args.batch)
        figures = " | ".join(
            f"{found[k]:.2f}" if k == "ratio" else f"{found[k]:.0f}"
            for k in ("insert", "hooks", "write", "upkeep", "brief", "ratio", "total", "jobs")
        )
        print(f"| {n} | {figures} |", flush=True)


if __name__ == "__main__":
    main()
