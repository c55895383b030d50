"""Durable collect throughput and latency, beside a bare ASGI app and Starlette, in one run.

Every server runs on the same stack: uvicorn, 2 worker processes, uvloop, httptools, no access
log, on 127.0.0.1, each worker accepting on a socket of its own as `troth serve` runs them
(`troth.workers`); the Starlette app is also run by the `uvicorn` command, whose workers share
one socket, for reference. `wrk` drives each one at full load for a fixed time with realistic
page views (a few hundred pages, visitors, addresses and Chrome versions); `wrk` with each
connection paced by random waits (or `hey -q` with --half-tool hey) then measures Troth's
latency at half its own full-load rate, and Starlette's at Troth-on-SQLite's. For Troth, the
events table must end up holding every acknowledged event once the ingester has caught up.
Troth runs as it is deployed: compiled by setup.py (TROTH_COMPILE=1, mypyc) into a folder of
the run that comes first on its import path; `--build plain` runs the editable install's plain
Python instead.

Needs: apt-get install -y wrk [hey]   (and PostgreSQL on 127.0.0.1:5432, user postgres, trust auth)
Run:   .venv/bin/python bench/collect.py [--rounds 3] [--build compiled|plain] [--profile DIR]

--profile records each Troth process with py-spy (.venv/bin/pip install py-spy) during the
full-load run of the first round; those runs are slowed by the sampling, so their figures are
left out of the medians.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import hashlib
import json
import os
import re
import resource
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv" / "bin"
EXAMPLE_POLICY = ROOT / "src" / "troth" / "policy" / "example.yaml"
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
WORKERS = 2
STACK = ["--loop", "uvloop", "--http", "httptools", "--no-access-log"]
SITE = "lumeninsights.example"
CHROME = "Mozilla/5.0 ({os}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36"
CHROME_OS = (
    "Windows NT 10.0; Win64; x64",
    "Macintosh; Intel Mac OS X 10_15_7",
    "X11; Linux x86_64",
    "Linux; Android 10; K",
)
LANGUAGES = ("de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7", "en-GB,en;q=0.9", "fr-FR,fr;q=0.9,en;q=0.6")
SECTIONS = ("pricing", "docs", "blog", "features", "customers", "changelog")
REFERRERS = (
    "https://www.google.com/",
    "https://news.example/2026/05/best-analytics-tools?ref=home",
    "https://www.lumeninsights.example/",
    "",
)
CAMPAIGNS = (
    "?utm_source=newsletter&utm_medium=email&utm_campaign=spring-launch",
    "?utm_source=linkedin&utm_medium=social&utm_campaign=q2-webinar&fbclid=IwAR0xyz",
    "",
)
VARIANTS = 400
CONNECTIONS = 64
"""Full load: where the ceiling peaks on this kind of machine (Starlette 204, one run each,
2026-11-26 20:18: 32,790 req/s at 16 connections, 36,225 at 32, 38,623 at 48, 39,571 at 64,
38,460 at 96, 38,070 at 128). Fewer leave the ceiling short of its peak; more only queue."""
CEILING = "Starlette 204 (ceiling)"
SHARED = "Starlette 204, one socket (uvicorn command)"
ORDER = ("starlette", "troth-sqlite", "troth-postgres", "plain", "starlette", "starlette-shared")
"""The order servers run in within a round. The ceiling runs before and after the Troth
servers, and Troth's ratio is taken against the mean of the two runs: the ceiling moved by a
fifth from minute to minute on this machine (bench/README.md), and the mean follows a steady
drift within the round."""


@dataclass
class Options:
    duration: int
    warmup: int
    connections: int
    threads: int
    hey_workers: int
    half_tool: str
    rounds: int
    profile: Path | None
    only: list[str]
    workers: int = WORKERS
    """uvicorn workers of the baseline apps (the ceiling)."""
    troth_workers: int = WORKERS
    half_rate: float = 0.0
    """The half-load phase's rate for every server; 0: half of each Troth server's own."""
    build: str = "compiled"
    """Troth's build: "compiled" (setup.py with TROTH_COMPILE=1, as deployed) or "plain"."""
    compiled_dir: Path | None = None
    """Where the compiled build was installed (PYTHONPATH of the Troth servers)."""


@dataclass
class Server:
    name: str
    label: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    data_dir: Path | None = None
    database_url: str = ""
    expected_status: int = 204
    listeners: int = 1
    """Listening sockets on the port once every worker serves (one per worker when spread)."""

    @property
    def is_troth(self) -> bool:
        return self.data_dir is not None


@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    bad: int
    errors: int
    stored: int | None = None
    cpu: dict[str, float] = field(default_factory=dict)


@dataclass
class Result:
    server: str
    full: Load
    half: Load | None = None
    half_rate: float = 0.0
    scripts: dict[str, tuple[int, int]] = field(default_factory=dict)
    peak_rss_mib: tuple[float, float] = (0.0, 0.0)
    """The largest worker's and the parent's peak resident memory, after both loads."""


# ---------------------------------------------------------------- traffic


def variants() -> list[dict[str, str]]:
    """A few hundred distinct page views: pages, visitors, addresses, browsers, languages."""
    out = []
    for i in range(VARIANTS):
        digest = hashlib.sha256(f"visitor-{i % 300}".encode()).hexdigest()
        consent = i % 3 != 0
        hit: dict[str, object] = {
            "site": SITE,
            "kind": "pageview",
            "url": f"https://www.{SITE}/{SECTIONS[i % 6]}/page-{i % 250}{CAMPAIGNS[i % 3]}",
            "referrer": REFERRERS[i % 4],
            "title": f"{SECTIONS[i % 6].title()} page {i % 250} - Lumen Insights",
            "sw": (1440, 1920, 390, 1280)[i % 4],
            "consent": consent,
        }
        if consent:
            hit["vid"] = digest[:32]
        out.append(
            {
                "body": json.dumps(hit, separators=(",", ":")),
                "ua": CHROME.format(os=CHROME_OS[i % 4], v=120 + i % 12),
                "lang": LANGUAGES[i % 3],
                "ip": f"{(int(digest[32:34], 16) % 180) + 20}.{int(digest[34:36], 16)}"
                f".{int(digest[36:38], 16)}.{int(digest[38:40], 16) or 1}",
            }
        )
    return out


def lua_string(text: str) -> str:
    return f"[==[{text}]==]"


def write_wrk_script(path: Path, pace_ms: float = 0.0, *, even: bool = False) -> None:
    """The full-load script; with `pace_ms`, each connection waits between requests, on average
    that long (half load, with the same requests as at full load). The waits are drawn at
    random (exponentially distributed), so the connections' requests arrive as independent
    visitors' would; with `even`, every wait is exactly `pace_ms`, and connections that
    started together keep sending together, in bursts."""
    pacing = ""
    if pace_ms and even:
        pacing = f"function delay()\n  return {max(1, round(pace_ms))}\nend\n"
    elif pace_ms:
        pacing = (
            f"local pace = {pace_ms:.3f}\n"
            "function delay()\n"
            "  return math.floor(-math.log(1 - math.random()) * pace + 0.5)\n"
            "end\n"
        )
    rows = ",\n".join(
        "{" + ", ".join(f"{k} = {lua_string(v)}" for k, v in row.items()) + "}"
        for row in variants()
    )
    path.write_text(
        f"local rows = {{\n{rows}\n}}\n"
        + """
local requests = {}
local i = 0
function init(args)
  for n, row in ipairs(rows) do
    requests[n] = wrk.format("POST", "/api/collect", {
      ["Content-Type"] = "text/plain;charset=UTF-8",
      ["User-Agent"] = row.ua,
      ["Accept-Language"] = row.lang,
      ["Origin"] = "https://www.lumeninsights.example",
      ["X-Forwarded-For"] = row.ip,
    }, row.body)
  end
  i = math.random(#requests)
end
function request()
  i = i % #requests + 1
  return requests[i]
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
    .. '"status": %d, "errors": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
"""
        + pacing
    )


# ---------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def listening(port: int) -> int:
    """How many sockets listen on this TCP port (IPv4, from /proc/net/tcp)."""
    local = f":{port:04X}"
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(1 for line in lines if line.split()[1].endswith(local) and line.split()[3] == "0A")


def wait_ready(
    port: int, proc: subprocess.Popen[bytes], listeners: int, timeout: float = 90.0
) -> None:
    """Until a worker answers and, where each worker has a socket of its own, all of them
    listen: connections opened before a worker listens would all go to the others."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/bench-ready", timeout=2)
            answered = True
        except urllib.error.HTTPError:
            answered = True  # any answer means a worker is serving
        except OSError:
            answered = False
        if answered and listening(port) >= listeners:
            return
        time.sleep(0.3)
    raise RuntimeError("server did not answer in time")


@contextlib.contextmanager
def running(server: Server, port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, **server.env, "TROTH_PORT": str(port)}
    command = [*server.command, "--port", str(port)] if not server.is_troth else server.command
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        wait_ready(port, proc, server.listeners)
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def descendants(pid: int) -> list[int]:
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            with contextlib.suppress(OSError):
                queue.extend(int(c) for c in (task / "children").read_text().split())
    return found


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid: int) -> float:
    """A process's peak resident set (VmHWM), in MiB; 0 once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(found.group(1)) / 1024 if found else 0.0


def postgres_pids() -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/comm"):
        with contextlib.suppress(OSError):
            if stat.read_text().strip() in ("postgres", "postmaster"):
                pids.append(int(stat.parent.name))
    return pids


def machine_busy_seconds() -> float:
    """CPU time every process on the machine has used (from /proc/stat), in seconds."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def cpu_snapshot(server_pid: int) -> dict[str, float]:
    """CPU seconds so far: the server's workers, its parent (ingester), PostgreSQL, the load
    generator (reaped children), and the whole machine."""
    workers = worker_pids(server_pid)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "parent": cpu_seconds(server_pid),
        "workers": sum(cpu_seconds(p) for p in workers),
        "postgres": sum(cpu_seconds(p) for p in postgres_pids()),
        "client": children.ru_utime + children.ru_stime,
        "machine": machine_busy_seconds(),
    }


def cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    delta = {key: after[key] - before[key] for key in after}
    ours = sum(delta[key] for key in ("parent", "workers", "postgres", "client"))
    delta["others"] = max(0.0, delta.pop("machine") - ours)
    return delta


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except OSError:
        return ""


def worker_pids(server_pid: int) -> list[int]:
    return [p for p in descendants(server_pid) if "spawn_main" in cmdline(p)]


# ---------------------------------------------------------------- load generators


def run_wrk(
    port: int, script: Path, seconds: int, options: Options, connections: int | None = None
) -> Load:
    command = [
        "wrk", "-t", str(options.threads), "-c", str(connections or options.connections),
        "-d", f"{seconds}s",
        "--latency", "-s", str(script), f"http://127.0.0.1:{port}/api/collect",
    ]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    match = re.search(r"^BENCH (.*)$", output, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"wrk said:\n{output}")
    data = json.loads(match.group(1))
    return Load(
        rps=data["requests"] / (data["duration_us"] / 1e6),
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        requests=data["requests"],
        bad=data["status"],
        errors=data["errors"],
    )


def half_load(
    port: int, rate: float, work: Path, body: Path, options: Options, expected: int
) -> Load:
    if options.half_tool == "hey":
        return run_hey(port, rate, options.duration, body, options, expected)
    # wrk paces each connection: `hey_workers` connections, each waiting c/rate between
    # requests on average, give a little under `rate` (the wait excludes the answer's own
    # latency).
    connections = options.hey_workers
    even = options.half_tool == "wrk-even"
    script = work / f"paced-{rate:.0f}{'-even' if even else ''}.lua"
    write_wrk_script(script, 1000 * connections / rate, even=even)
    return run_wrk(port, script, options.duration, options, connections)


def run_hey(
    port: int, rate: float, seconds: int, body: Path, options: Options, expected: int
) -> Load:
    sample = variants()[1]
    workers = options.hey_workers
    command = [
        "hey", "-z", f"{seconds}s", "-c", str(workers), "-q", f"{rate / workers:.2f}",
        "-m", "POST", "-T", "text/plain;charset=UTF-8", "-D", str(body),
        "-H", f"User-Agent: {sample['ua']}", "-H", f"Accept-Language: {sample['lang']}",
        "-H", "Origin: https://www.lumeninsights.example",
        f"http://127.0.0.1:{port}/api/collect",
    ]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout

    def seconds_of(pattern: str) -> float:
        found = re.search(pattern, output)
        return float(found.group(1)) if found else float("nan")

    errors_part = output.split("Error distribution:")[1] if "Error distribution:" in output else ""
    statuses = {int(s): int(n) for s, n in re.findall(r"\[(\d+)\]\s+(\d+) responses", output)}
    total = sum(statuses.values())
    good = statuses.get(expected, 0)
    return Load(
        rps=seconds_of(r"Requests/sec:\s+([\d.]+)"),
        p50_ms=seconds_of(r"50% in ([\d.]+) secs") * 1000,
        p99_ms=seconds_of(r"99% in ([\d.]+) secs") * 1000,
        requests=good,
        bad=total - good,
        errors=sum(int(n) for n in re.findall(r"\[(\d+)\]\s+(?!responses)\S", errors_part)),
    )


# ---------------------------------------------------------------- Troth's storage


def count_events(server: Server) -> int:
    if server.database_url:
        import psycopg

        dsn = server.database_url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(dsn) as conn:
            row = conn.execute("select count(*) from events").fetchone()
            return int(row[0]) if row else 0
    assert server.data_dir is not None
    with contextlib.closing(sqlite3.connect(server.data_dir / "troth.db", timeout=30)) as conn:
        return int(conn.execute("select count(*) from events").fetchone()[0])


def sealed_waiting(journal: Path) -> bool:
    """Whether a sealed segment waits for the ingester (named as this or an older version
    names them, so one bench can run both)."""
    return any(journal.glob("*.sealed")) or any(journal.glob("*.seg"))


def settled_count(server: Server, timeout: float = 180.0) -> int:
    """The event count once every journal segment has been ingested."""
    assert server.data_dir is not None
    journal = server.data_dir / "collect" / "journal"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # A writer seals its segment within a second of its last write, and the ingester
        # takes sealed ones: settled once none is waiting and the count holds past that.
        if not sealed_waiting(journal):
            count = count_events(server)
            time.sleep(1.5)
            if not sealed_waiting(journal) and count_events(server) == count:
                return count
        time.sleep(0.2)
    raise RuntimeError(f"the ingester did not catch up within {timeout:.0f} s")


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    import psycopg

    name = f"troth_bench_{os.getpid()}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"drop database if exists {name}")
        conn.execute(f"create database {name}")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"drop database if exists {name} with (force)")


def troth_server(
    name: str, label: str, work: Path, database_url: str, workers: int,
    compiled: Path | None = None,
) -> Server:  # fmt: skip
    data_dir = work / name / "data"
    data_dir.mkdir(parents=True)
    env = {
        "TROTH_CONFIG": str(work / name / "absent.toml"),
        "TROTH_DATA_DIR": str(data_dir),
        "TROTH_KEY_DIR": str(work / name / "keys"),
        "TROTH_POLICY_FILE": str(EXAMPLE_POLICY),
        "TROTH_WORKERS": str(workers),
        "TROTH_DATABASE_URL": database_url,
    }
    if compiled is not None:  # before the editable install on the import path
        env["PYTHONPATH"] = str(compiled)
    make_master_key(env)
    return Server(
        name=name, label=label, command=[str(VENV_BIN / "troth"), "serve"], env=env,
        data_dir=data_dir, database_url=database_url, expected_status=202,
        listeners=workers,  # one socket each beside others, or the one socket of one
    )  # fmt: skip


def make_master_key(env: dict[str, str]) -> None:
    code = "from troth.config import Settings; from troth.keys import ensure_master_key; "
    code += "ensure_master_key(Settings())"
    subprocess.run(
        [str(VENV_BIN / "python"), "-c", code], env={**os.environ, **env}, check=True, cwd=ROOT
    )


def baseline_server(name: str, label: str, app: str, workers: int, *, shared: bool) -> Server:
    """A baseline app served as `troth serve` serves its workers (a socket each), or by the
    `uvicorn` command (one socket all workers accept from)."""
    if shared:
        command = [str(VENV_BIN / "uvicorn"), app, "--workers", str(workers), *STACK]
        command += ["--host", "127.0.0.1"]
        return Server(name=name, label=label, command=command)
    command = [str(VENV_BIN / "python"), "-m", "bench.collect_serve", app]
    command += ["--workers", str(workers)]
    return Server(name=name, label=label, command=command, listeners=workers)


# ---------------------------------------------------------------- one server


def check_one(port: int, expected: int) -> None:
    row = variants()[0]
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/collect",
        data=row["body"].encode(),
        headers={
            "Content-Type": "text/plain;charset=UTF-8",
            "User-Agent": row["ua"],
            "Accept-Language": row["lang"],
            "Origin": "https://www.lumeninsights.example",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        if response.status != expected:
            raise RuntimeError(f"expected {expected}, got {response.status}")


def script_sizes(port: int) -> dict[str, tuple[int, int]]:
    """(raw bytes, gzip -9 bytes) of each tracker script that answers."""
    sizes = {}
    for path in ("/t.js", "/consent.js"):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as resp:
                body = resp.read()
        except urllib.error.HTTPError:
            continue
        sizes[path] = (len(body), len(gzip.compress(body, 9)))
    return sizes


def measure(
    server: Server, work: Path, script: Path, body: Path, options: Options,
    half_rate_of: Callable[[], float], profile: Path | None,
) -> Result:  # fmt: skip
    port = free_port()
    log = work / f"{server.name}.log"
    if log.exists():  # the ceiling's second run
        log = work / f"{server.name}-after.log"
    with running(server, port, log) as proc:
        check_one(port, server.expected_status)
        run_wrk(port, script, options.warmup, options)
        before = settled_count(server) if server.is_troth else 0
        cpu_before = cpu_snapshot(proc.pid)
        spies = start_profilers(proc.pid, profile, server.name, options) if profile else []
        full = run_wrk(port, script, options.duration, options)
        for spy in spies:
            spy.wait(timeout=60)
        cpu_after = cpu_snapshot(proc.pid)
        full.cpu = cpu_delta(cpu_before, cpu_after)
        result = Result(server=server.label, full=full)
        if server.is_troth:
            full.stored = settled_count(server) - before
            result.scripts = script_sizes(port)
        rate = half_rate_of() if not server.is_troth else full.rps / 2
        rate = options.half_rate or rate
        if rate > 0 and (server.is_troth or server.name == "starlette"):
            before = settled_count(server) if server.is_troth else 0
            half = half_load(port, rate, work, body, options, server.expected_status)
            if server.is_troth:
                half.stored = settled_count(server) - before
            result.half, result.half_rate = half, rate
        workers = max((peak_rss_mib(p) for p in worker_pids(proc.pid)), default=0.0)
        result.peak_rss_mib = (workers, peak_rss_mib(proc.pid))
    return result


def start_profilers(
    pid: int, out: Path, name: str, options: Options
) -> list[subprocess.Popen[bytes]]:
    spy = shutil.which("py-spy") or str(VENV_BIN / "py-spy")
    out.mkdir(parents=True, exist_ok=True)
    targets = [("parent", pid)] + [(f"worker{n}", p) for n, p in enumerate(worker_pids(pid))]
    procs = []
    for label, target in targets:
        for fmt, suffix in (("raw", "txt"), ("flamegraph", "svg")):
            command = [
                spy, "record", "--pid", str(target), "--duration", str(options.duration),
                "--rate", "200", "--nonblocking", "--format", fmt, "--threads",
                "-o", str(out / f"{name}-{label}.{suffix}"),
            ]  # fmt: skip
            if fmt == "flamegraph" and label != "worker0":
                continue
            procs.append(
                subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            )
    return procs


# ---------------------------------------------------------------- report


def verdict(result: Result) -> str:
    load = result.full
    problems = []
    if load.bad or load.errors:
        problems.append(f"{load.bad} non-2xx, {load.errors} socket errors")
    if load.stored is not None and load.stored < load.requests:
        problems.append(f"LOST {load.requests - load.stored} acknowledged events")
    if result.half and result.half.bad:
        problems.append(f"half load: {result.half.bad} unexpected statuses")
    if result.half and result.half.stored is not None and result.half.stored < result.half.requests:
        problems.append(f"half load: LOST {result.half.requests - result.half.stored}")
    return "; ".join(problems) or "ok"


def fdatasync_ms(directory: Path, count: int = 200) -> tuple[float, float]:
    """p50 and p99 of one small append + fdatasync on this disk, now: what every durable
    answer waits for at least once."""
    path = directory / "fsync-probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    took = []
    try:
        for _ in range(count):
            os.write(fd, b"x" * 512)
            start = time.perf_counter()
            os.fdatasync(fd)
            took.append((time.perf_counter() - start) * 1000)
    finally:
        os.close(fd)
        path.unlink()
    took.sort()
    return took[count // 2], took[count * 99 // 100]


def ceiling_of(results: list[Result]) -> float:
    """The mean of the round's ceiling runs (one before the Troth servers, one after)."""
    runs = [r.full.rps for r in results if r.server == CEILING]
    return statistics.mean(runs) if runs else 0.0


def print_round(results: list[Result], options: Options, disk: tuple[float, float]) -> None:
    ceiling = ceiling_of(results)
    print(
        f"\nwrk -t{options.threads} -c{options.connections} -d{options.duration}s "
        f"(after {options.warmup}s warm-up), uvicorn workers: {options.workers} for the "
        f"baselines, {options.troth_workers} for Troth ({options.build} build); "
        "uvloop + httptools; × ceiling: against the mean of the two ceiling runs; "
        f"load average {os.getloadavg()[0]:.1f}; fdatasync before the round: "
        f"p50 {disk[0]:.2f} ms, p99 {disk[1]:.2f} ms"
    )
    print(
        "| server | req/s | × ceiling | p50 ms | p99 ms | stored/acked "
        "| cpu s: workers/parent/pg/wrk/others | worker µs/answer "
        "| peak RSS MiB: worker/parent | check |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- | --- |")
    for r in results:
        f = r.full
        share = f"{f.rps / ceiling:.2f}" if ceiling else "-"
        stored = f"{f.stored}/{f.requests}" if f.stored is not None else f"-/{f.requests}"
        keys = ("workers", "parent", "postgres", "client", "others")
        cpu = "/".join(f"{f.cpu.get(k, 0):.1f}" for k in keys)
        per_answer = f.cpu.get("workers", 0) / f.requests * 1e6 if f.requests else 0.0
        rss = "/".join(f"{mib:.0f}" for mib in r.peak_rss_mib)
        print(
            f"| {r.server} | {f.rps:,.0f} | {share} | {f.p50_ms:.2f} | {f.p99_ms:.2f} "
            f"| {stored} | {cpu} | {per_answer:.0f} | {rss} | {verdict(r)} |"
        )
    for r in results:
        if r.half:
            h = r.half
            stored = f", stored {h.stored}/{h.requests}" if h.stored is not None else ""
            print(
                f"half load, {r.server}: {options.half_tool} at {r.half_rate:,.0f}/s "
                f"({options.hey_workers} workers) -> {h.rps:,.0f}/s, p50 {h.p50_ms:.2f} ms, "
                f"p99 {h.p99_ms:.2f} ms{stored}"
            )
    for r in results:
        for path, (raw, packed) in r.scripts.items():
            print(f"{path} ({r.server}): {raw} bytes, {packed} bytes gzip -9")
        if r.scripts:
            break


def print_medians(rounds: list[list[Result]], options: Options) -> None:
    print(f"\nmedians over {len(rounds)} rounds; load average now {os.getloadavg()[0]:.1f}")
    print("| server | req/s | × ceiling | p50 ms | p99 ms | half-load p50 ms | half-load p99 ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    names = list(dict.fromkeys(r.server for r in rounds[0]))
    for name in names:
        rows = [r for results in rounds for r in results if r.server == name]
        shares = []
        for results in rounds:
            ceiling = ceiling_of(results)
            shares += [r.full.rps / ceiling for r in results if r.server == name]
        halves = [r.half for r in rows if r.half]
        med = statistics.median
        half = (
            f"{med(h.p50_ms for h in halves):.2f} | {med(h.p99_ms for h in halves):.2f}"
            if halves
            else "- | -"
        )
        print(
            f"| {name} | {med(r.full.rps for r in rows):,.0f} | {med(shares):.2f} "
            f"| {med(r.full.p50_ms for r in rows):.2f} | {med(r.full.p99_ms for r in rows):.2f} "
            f"| {half} |"
        )


# ---------------------------------------------------------------- main


def parse_options() -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per load run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up")
    parser.add_argument(
        "--connections", type=int, default=CONNECTIONS, help="wrk connections at full load"
    )
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument(
        "--hey-workers", type=int, default=50, help="connections at half load (wrk or hey)"
    )
    parser.add_argument(
        "--half-tool", choices=["wrk", "wrk-even", "hey"], default="wrk",
        help="half load by wrk pacing each connection with random waits (default), with "
        "equal waits (wrk-even), or by hey -q",
    )  # fmt: skip
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--workers", type=int, default=WORKERS, help="uvicorn workers of the baseline apps"
    )
    parser.add_argument("--troth-workers", type=int, default=WORKERS, help="TROTH_WORKERS")
    parser.add_argument(
        "--half-rate", type=float, default=0.0,
        help="requests/s of the half-load phase for every server (default: half of each "
        "Troth server's full-load rate), to compare two versions at the same rate",
    )  # fmt: skip
    parser.add_argument(
        "--build", choices=["compiled", "plain"], default="compiled",
        help="Troth's build: compiled by setup.py as deployed (default), or the plain Python "
        "of the editable install",
    )  # fmt: skip
    parser.add_argument("--profile", type=Path, help="write py-spy profiles here")
    parser.add_argument(
        "--only",
        nargs="*",
        default=[*ORDER],
        help="which servers: " + ", ".join(ORDER) + " (the ceiling, starlette, is needed)",
    )
    args = parser.parse_args()
    return Options(
        duration=args.duration, warmup=args.warmup, connections=args.connections,
        threads=args.threads, hey_workers=args.hey_workers, half_tool=args.half_tool,
        rounds=args.rounds,
        profile=args.profile, only=args.only, workers=args.workers,
        troth_workers=args.troth_workers, half_rate=args.half_rate, build=args.build,
    )  # fmt: skip


def build_compiled(target: Path) -> Path:
    """Troth compiled as it is deployed (setup.py, TROTH_COMPILE=1), installed into `target`."""
    print("  building Troth's compiled package ...", file=sys.stderr, flush=True)
    subprocess.run(["bash", str(ROOT / "scripts" / "compile"), str(target)], check=True)
    return target


def main() -> None:
    options = parse_options()
    for tool in ("wrk", "hey") if options.half_tool == "hey" else ("wrk",):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is missing: apt-get install -y {tool}")
    rounds: list[list[Result]] = []
    with tempfile.TemporaryDirectory(prefix="troth-bench-") as tmp:
        work = Path(tmp)
        script, body = work / "collect.lua", work / "body.json"
        write_wrk_script(script)
        body.write_text(variants()[1]["body"])
        if options.build == "compiled":
            options.compiled_dir = build_compiled(work / "compiled")
        for number in range(options.rounds):
            profile = options.profile if number == 0 else None
            disk = fdatasync_ms(work)
            rounds.append(run_round(work / f"round{number}", script, body, options, profile))
            print_round(rounds[-1], options, disk)
    if options.profile is None or options.rounds > 1:
        counted = rounds[1:] if options.profile is not None else rounds
        print_medians(counted, options)


def run_round(
    work: Path, script: Path, body: Path, options: Options, profile: Path | None
) -> list[Result]:
    work.mkdir(parents=True)
    results: list[Result] = []

    def half_rate() -> float:  # the baseline's half-load run uses Troth-on-SQLite's rate
        return next((r.half_rate for r in results if r.server == "Troth, SQLite"), 0.0)

    with postgres_database() as pg_url:
        servers = {
            "troth-sqlite": lambda: troth_server(
                "troth-sqlite", "Troth, SQLite", work, "", options.troth_workers,
                options.compiled_dir,
            ),
            "troth-postgres": lambda: troth_server(
                "troth-postgres", "Troth, PostgreSQL", work, pg_url, options.troth_workers,
                options.compiled_dir,
            ),
            "plain": lambda: baseline_server(
                "plain", "plain ASGI 204", "bench.collect_apps:plain", options.workers,
                shared=False,
            ),
            "starlette": lambda: baseline_server(
                "starlette", CEILING, "bench.collect_apps:starlette", options.workers,
                shared=False,
            ),
            "starlette-shared": lambda: baseline_server(
                "starlette-shared", SHARED, "bench.collect_apps:starlette", options.workers,
                shared=True,
            ),
        }  # fmt: skip
        for name in ORDER:
            if name in options.only:
                server = servers[name]()
                print(f"  {server.label} ...", file=sys.stderr, flush=True)
                results.append(measure(server, work, script, body, options, half_rate, profile))
    shown = ["plain ASGI 204", CEILING, SHARED, "Troth, SQLite", "Troth, PostgreSQL"]
    return sorted(results, key=lambda r: shown.index(r.server))


if __name__ == "__main__":
    main()
