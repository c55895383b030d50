"""What one `POST /api/collect` costs through the whole ASGI app, beside a bare Starlette 204.

The app is built as `troth serve` builds it (`serving_app`, a new SQLite database, the example
policy; it reads X-Forwarded-For itself, where the baselines sit behind uvicorn's proxy-headers
layer, as uvicorn serves them by default), and driven with ASGI messages, no sockets: 32
requests in flight on uvloop, the 400 page views `bench/collect.py` sends (X-Forwarded-For,
Origin, Chrome user agents, UTM'd URLs, referrers). The figure is CPU time of the whole process
(every thread) per answered request, the median of the rounds; the baseline (the Starlette app
of `bench/collect_apps.py`) is driven the same way, in the same process, round by round. Python's
garbage collector runs as in a serving process (`collector.tune()` once the apps are built).

Rows:
  - plain ASGI 204: reads the body and answers; what the driver and proxy-headers layer cost.
  - Starlette 204: the ceiling's app.
  - Troth, journal answered at once: the request's own work (the journal is replaced by one
    that acknowledges on the event loop's next turn, no thread, no disk).
  - Troth, every URL new: the same, but no page URL was seen before (a click id appended to
    each), so the page URL cache never helps.
  - Troth, durable: the real journal in a temporary folder, one write and fdatasync per
    batch (the requests of a loop turn, a busy batch one turn more).

Run: .venv/bin/python bench/collect_request.py [--rounds 15] [--requests 4000] [--profile N]

--profile N prints the N costliest functions (cProfile, own time) of the
journal-answered-at-once case instead of timing.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import itertools
import json
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import uvloop
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.collect import SITE, variants  # noqa: E402
from bench.collect_apps import plain, starlette  # noqa: E402
from troth import collector  # noqa: E402
from troth.app import serving_app  # noqa: E402
from troth.config import Settings  # noqa: E402
from troth.keys import ensure_master_key  # noqa: E402
from troth.runtime import Runtime  # noqa: E402

EXAMPLE_POLICY = ROOT / "src" / "troth" / "policy" / "example.yaml"
IN_FLIGHT = 32
ORIGIN = f"https://www.{SITE}".encode()
App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


class InstantJournal:
    """Stands in for the journal: every append is acknowledged on the loop's next turn."""

    async def append(self, payloads: list[bytes]) -> None:
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        loop.call_soon(done.set_result, None)
        await done


Request = tuple[list[tuple[bytes, bytes]], bytes]
_fresh = itertools.count()


def requests(total: int = 0) -> list[Request]:
    """(headers, body) of each page view, as uvicorn hands them to the app. With `total`,
    that many requests whose page URLs were never sent before (a click id appended)."""
    rows = variants()
    if total:
        rows = [_fresh_url(rows[i % len(rows)]) for i in range(total)]
    out = []
    for row in rows:
        body = row["body"].encode()
        headers = [
            (b"host", b"127.0.0.1:8000"),
            (b"content-type", b"text/plain;charset=UTF-8"),
            (b"user-agent", row["ua"].encode()),
            (b"accept-language", row["lang"].encode()),
            (b"origin", ORIGIN),
            (b"x-forwarded-for", row["ip"].encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        out.append((headers, body))
    return out


def _fresh_url(row: dict[str, str]) -> dict[str, str]:
    hit = json.loads(row["body"])
    hit["url"] += f"{'&' if '?' in hit['url'] else '?'}fbclid=b{next(_fresh)}"
    return {**row, "body": json.dumps(hit, separators=(",", ":"))}


async def drive(app: App, total: int, expected: int, pages: list[Request]) -> None:
    """`total` requests, IN_FLIGHT at a time; each must be answered `expected`."""
    statuses: list[int] = []

    async def one(i: int) -> None:
        headers, body = pages[i % len(pages)]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "server": ("127.0.0.1", 8000),
            "client": ("127.0.0.1", 40000 + i % 20000),
            "scheme": "http",
            "method": "POST",
            "root_path": "",
            "path": "/api/collect",
            "raw_path": b"/api/collect",
            "query_string": b"",
            "headers": headers,
            "state": {},
        }

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        await app(scope, receive, send)

    async def worker(start: int, end: int) -> None:
        for i in range(start, end):  # one after the other: every page view in turn
            await one(i)

    share = -(-total // IN_FLIGHT)
    await asyncio.gather(
        *(worker(n * share, min(total, (n + 1) * share)) for n in range(IN_FLIGHT))
    )
    wrong = [s for s in statuses if s != expected]
    if wrong or len(statuses) != total:
        raise RuntimeError(f"expected {total} × {expected}, got {len(statuses)}, e.g. {wrong[:3]}")


LOOP = uvloop.new_event_loop()


def cpu_us(app: App, total: int, expected: int, *, fresh: bool = False) -> float:
    """CPU microseconds (all threads of this process) per request."""
    pages = requests(total if fresh else 0)
    start = time.process_time()
    LOOP.run_until_complete(drive(app, total, expected, pages))
    return (time.process_time() - start) / total * 1e6


def troth_app(work: Path, *, durable: bool) -> App:
    settings = Settings(
        data_dir=work / "data",
        key_dir=work / "keys",
        policy_file=EXAMPLE_POLICY,
        database_url=f"sqlite:///{work / 'troth.db'}",
    )
    ensure_master_key(settings)
    endpoint = serving_app(settings, Runtime.start(settings))
    if not durable:
        endpoint._journal = InstantJournal()  # type: ignore[assignment]
    if getattr(endpoint, "proxies", None) is not None:  # it reads X-Forwarded-For itself
        return endpoint
    # An older checkout's server (`--code`, collect_instructions.py) ran uvicorn's layer.
    app: App = ProxyHeadersMiddleware(endpoint, trusted_hosts="127.0.0.1")  # type: ignore[arg-type]
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--requests", type=int, default=4000, help="per case and round")
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="troth-collect-request-"))
    baseline: App = ProxyHeadersMiddleware(starlette, trusted_hosts="127.0.0.1")  # type: ignore[arg-type]
    instant = troth_app(work / "instant", durable=False)
    cases: dict[str, tuple[App, int]] = {
        "plain ASGI 204 (the driver's own cost)": (
            ProxyHeadersMiddleware(plain, trusted_hosts="127.0.0.1"),  # type: ignore[arg-type]
            204,
        ),
        "Starlette 204 (baseline)": (baseline, 204),
        "Troth, journal answered at once": (instant, 202),
        "Troth, journal at once, every URL new": (instant, 202),
        "Troth, durable (fsync per batch)": (troth_app(work / "durable", durable=True), 202),
    }
    collector.tune()  # as a serving process does once its app is built
    for app, expected in cases.values():  # warm-up: caches, first segment, salts
        cpu_us(app, 2000, expected)
    if args.profile:
        app, expected = cases["Troth, journal answered at once"]
        profile = cProfile.Profile()
        profile.enable()
        LOOP.run_until_complete(drive(app, args.requests, expected, requests()))
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(args.profile)
        return
    runs: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.rounds):
        for name, (app, expected) in cases.items():
            runs[name].append(cpu_us(app, args.requests, expected, fresh="URL new" in name))
    base = statistics.median(runs["Starlette 204 (baseline)"])
    print(
        f"{args.rounds} rounds of {args.requests} requests, {IN_FLIGHT} in flight; "
        "CPU µs per request, median"
    )
    print(f"{'case':<42} {'µs/request':>10} {'× baseline':>11}")
    for name, values in runs.items():
        us = statistics.median(values)
        print(f"{name:<42} {us:>10.1f} {us / base:>11.2f}")
    print(json.dumps({name: round(statistics.median(v), 1) for name, v in runs.items()}))


if __name__ == "__main__":
    main()
