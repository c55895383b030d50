"""`troth serve` run as a real process on a free loopback port, for tests that need one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import EXAMPLE_POLICY
from tests.smtp_server import free_port
from troth.config import Settings
from troth.keys import ensure_master_key

TROTH = str(Path(sys.executable).with_name("troth"))


def server_settings(tmp_path: Path) -> Settings:
    """What `start_troth` serves: the example policy in tmp_path, a master key beside it."""
    (tmp_path / "policy.yaml").write_text(EXAMPLE_POLICY.read_text())
    settings = Settings(data_dir=tmp_path / "data", policy_file=tmp_path / "policy.yaml")
    ensure_master_key(settings)
    return settings


def start_troth(tmp_path: Path, port: int, workers: int = 2) -> subprocess.Popen[bytes]:
    """`troth serve` on tmp_path/data and tmp_path/policy.yaml, once /healthz answers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TROTH_")}
    env |= {
        "TROTH_DATA_DIR": str(tmp_path / "data"),
        "TROTH_POLICY_FILE": str(tmp_path / "policy.yaml"),
        "TROTH_PORT": str(port),
        "TROTH_WORKERS": str(workers),
    }
    server = subprocess.Popen(
        [TROTH, "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
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


def children(pid: int) -> set[int]:
    """The processes `pid` started (a server's workers)."""
    return {int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


def fd_links(pid: int) -> list[str]:
    """What each open descriptor of `pid` is (`socket:[inode]`, `anon_inode:[io_uring]`...);
    descriptors closed while they are read are left out, a process gone or not ours is []."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return []
    links = []
    for fd in fds:
        try:
            links.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            continue
    return links


__all__ = ["TROTH", "children", "fd_links", "free_port", "server_settings", "start_troth"]
