"""An acknowledged event survives `kill -9` of the server that acknowledged it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import orjson
from sqlalchemy import func, select

from tests.conftest import EXAMPLE_POLICY
from troth.collect.ingest import Ingester
from troth.collect.models import StoredEvent
from troth.config import Settings
from troth.keys import ensure_master_key
from troth.runtime import Runtime

TROTH = str(Path(sys.executable).with_name("troth"))
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start(tmp_path: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TROTH_")}
    env |= {
        "TROTH_DATA_DIR": str(tmp_path / "data"),
        "TROTH_POLICY_FILE": str(tmp_path / "policy.yaml"),
        "TROTH_PORT": str(port),
        "TROTH_WORKERS": "2",
    }
    server = subprocess.Popen(
        [TROTH, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    os.killpg(server.pid, signal.SIGKILL)
    raise RuntimeError("troth serve did not start")


def test_acknowledged_events_survive_kill_9(tmp_path: Path) -> None:
    (tmp_path / "policy.yaml").write_text(EXAMPLE_POLICY.read_text())
    settings = Settings(data_dir=tmp_path / "data", policy_file=tmp_path / "policy.yaml")
    ensure_master_key(settings)
    port = _free_port()
    server = _start(tmp_path, port)
    url = f"http://127.0.0.1:{port}/api/collect"

    def send(n: int) -> bool:
        body = {"site": "lumeninsights.example", "url": f"https://lumeninsights.example/p/{n}"}
        response = httpx.post(
            url, content=orjson.dumps(body), headers={"user-agent": CHROME}, timeout=10
        )
        return response.status_code == 202

    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            acknowledged = sum(pool.map(send, range(400)))
    finally:
        os.killpg(server.pid, signal.SIGKILL)  # no shutdown, no final seal
        server.wait()
    assert acknowledged == 400

    runtime = Runtime.start(settings)
    try:
        Ingester.for_runtime(runtime).run_once()  # what a restarted server does first
        with runtime.transaction() as session:
            stored = session.scalar(select(func.count()).select_from(StoredEvent))
        assert stored == acknowledged
    finally:
        runtime.close()
