"""`troth people import` of a generated `given` CSV on SQLite and PostgreSQL.

Each backend runs in a child process (so its peak memory is its own), which first times the
baseline (reading and checking every row of the file, nothing stored), then the import.

    .venv/bin/python bench/people_import.py [--rows 100000] [--backends sqlite,postgresql]
    .venv/bin/python bench/people_import.py --rows 5000 --profile   # where the time goes
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import json
import pstats
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text

from troth.config import Settings
from troth.keys import ensure_master_key
from troth.people.context import context_for
from troth.people.import_batch import BATCH_ROWS, ImportJob
from troth.people.import_report import Outcome, Report
from troth.people.import_rows import open_rows
from troth.people.import_rules import resolve_source, screen
from troth.people.importing import run_import
from troth.runtime import Runtime
from troth.security.clock import utcnow

EXAMPLE_POLICY = Path(__file__).parents[1] / "src" / "troth" / "policy" / "example.yaml"
POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def generate(path: Path, rows: int) -> None:
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["email", "name", "company", "phone", "country"])
        for n in range(rows):
            phone = f"+44 20 7946 {n % 1000:04d}"
            writer.writerow(
                [f"person{n}@example.com", f"Person {n}", f"Company {n % 97}", phone, "GB"]
            )


def baseline(runtime: Runtime, path: Path) -> float:
    source = resolve_source(runtime.declaration, "given", path.name, utcnow())
    started = time.perf_counter()
    for row in open_rows(path):
        screen(row, source)
    return time.perf_counter() - started


def child(backend: str, path: Path, work: Path, profile: bool, batch_rows: int) -> None:
    database, drop = _database(backend, work)
    policy = work / "policy.yaml"
    policy.write_text(EXAMPLE_POLICY.read_text())
    settings = Settings(data_dir=work / "data", database_url=database, policy_file=policy)
    ensure_master_key(settings)
    runtime = Runtime.start(settings)
    try:
        parse_seconds = baseline(runtime, path)
        ctx = context_for(runtime)
        source = resolve_source(runtime.declaration, "given", path.name, utcnow())
        job = ImportJob(path, source, batch_rows=batch_rows)
        profiler = cProfile.Profile() if profile else None
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        report = run_import(runtime, ctx, job, Report())
        seconds = time.perf_counter() - started
        if profiler:
            profiler.disable()
            stats = pstats.Stats(profiler, stream=sys.stderr)
            stats.sort_stats("tottime").print_stats(25)
            stats.sort_stats("cumulative").print_stats("troth", 40)
    finally:
        runtime.close()
        drop()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "backend": backend,
                "rows": report.rows,
                "added": report.counts[Outcome.added],
                "stopped": report.stopped,
                "parse_seconds": parse_seconds,
                "import_seconds": seconds,
                "peak_mib": peak_mib,
            }
        )
    )


def _database(backend: str, work: Path) -> tuple[str, Callable[[], None]]:
    if backend == "sqlite":
        return f"sqlite:///{work / 'troth.db'}", lambda: None
    name = f"troth_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}", drop


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--batch-rows", type=int, default=BATCH_ROWS)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.file, args.work, args.profile, args.batch_rows)
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "signups.csv"
        generate(path, args.rows)
        print(f"{args.rows} rows, {path.stat().st_size / 1e6:.1f} MB of CSV")
        print(
            "| backend | baseline: read + check s | import s | rows/s | × baseline | peak RSS MiB |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for backend in args.backends.split(","):
            work = Path(folder) / backend
            work.mkdir()
            command = [
                sys.executable,
                __file__,
                "--child",
                backend,
                "--file",
                str(path),
                "--work",
                str(work),
                "--batch-rows",
                str(args.batch_rows),
            ]
            if args.profile:
                command.append("--profile")
            out = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
            result = json.loads(out.stdout.strip().splitlines()[-1])
            rate = result["rows"] / result["import_seconds"]
            ratio = result["import_seconds"] / result["parse_seconds"]
            print(
                f"| {backend} | {result['parse_seconds']:.2f} | {result['import_seconds']:.1f} "
                f"| {rate:,.0f} | {ratio:.0f} | {result['peak_mib']:.0f} |"
            )
            if result["stopped"]:
                print(f"  {result['stopped']}")


if __name__ == "__main__":
    main()
