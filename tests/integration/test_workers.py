"""`troth serve` with several workers: each accepts connections on a socket of its own."""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Callable
from multiprocessing.reduction import ForkingPickler
from pathlib import Path

import httpx
import pytest
import uvicorn
from uvicorn.config import STARTUP_FAILURE

from tests.serving import children, fd_links, free_port, server_settings, start_troth
from troth.workers import SPREAD, port_socket, run

pytestmark = pytest.mark.skipif(not SPREAD, reason="the kernel spreads connections on Linux")


def _listeners(port: int) -> dict[int, int]:
    """Listening sockets on this loopback port: socket inode -> the pid holding it."""
    local = f"0100007F:{port:04X}"
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == local and fields[3] == "0A":  # 0A: LISTEN
            inodes.add(int(fields[9]))
    owners = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        for link in fd_links(int(pid)):
            if link.startswith("socket:[") and int(link[8:-1]) in inodes:
                owners[int(link[8:-1])] = int(pid)
    return owners


def _wait_for(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


def test_each_worker_gets_a_socket_of_its_own_bound_to_the_port() -> None:
    """What uvicorn hands each worker process (by pickling) is a new socket on the same port,
    and the kernel spreads connections opened together over the workers' sockets."""
    parent = port_socket("127.0.0.1", 0)
    workers = [ForkingPickler.loads(ForkingPickler.dumps(parent)) for _ in range(2)]
    try:
        inodes = {os.fstat(s.fileno()).st_ino for s in (parent, *workers)}
        assert len(inodes) == 3
        assert all(s.getsockname() == parent.getsockname() for s in workers)
        for sock in workers:
            sock.listen(128)
            sock.setblocking(False)
        clients = [socket.create_connection(parent.getsockname()) for _ in range(64)]
        accepted = [0, 0]
        for n, sock in enumerate(workers):
            while True:
                try:
                    conn, _ = sock.accept()
                except BlockingIOError:
                    break
                conn.close()
                accepted[n] += 1
        for client in clients:
            client.close()
        assert sum(accepted) == 64
        assert min(accepted) > 0  # all 64 on one socket: 2 chances in 2**64
    finally:
        for sock in (parent, *workers):
            sock.close()


def test_a_port_in_use_is_refused_though_sockets_may_share_it() -> None:
    """A second server on a port in use exits with a reason, as with a shared socket,
    instead of joining the first server's sockets and taking part of its connections."""
    first = port_socket("127.0.0.1", 0)
    try:
        host, port = first.getsockname()
        with pytest.raises(OSError):
            port_socket(host, port)
        config = uvicorn.Config("troth.server:app_for_worker", host=host, port=port, workers=2)
        with pytest.raises(SystemExit) as exited:
            run(config)
        assert exited.value.code == STARTUP_FAILURE
    finally:
        first.close()


def test_troth_serve_listens_once_per_worker_and_a_replaced_worker_listens_again(
    tmp_path: Path,
) -> None:
    server_settings(tmp_path)
    port = free_port()
    server = start_troth(tmp_path, port, workers=2)
    try:
        _wait_for(lambda: len(_listeners(port)) == 2)
        workers = children(server.pid)
        assert set(_listeners(port).values()) <= workers
        assert len(set(_listeners(port).values())) == 2  # the parent does not listen

        killed = min(set(_listeners(port).values()))
        os.kill(killed, signal.SIGKILL)
        _wait_for(lambda: len(_listeners(port)) == 2 and killed not in _listeners(port).values())
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(20):
                assert client.get("/healthz", headers={"connection": "close"}).status_code == 200
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_troth_serve_starts_again_at_once_on_its_port(tmp_path: Path) -> None:
    """Connections the server closed wait in TIME_WAIT on its port; a restart binds beside
    them (the parent's socket does not reuse addresses, but shares the port)."""
    server_settings(tmp_path)
    port = free_port()
    for _ in range(2):
        server = start_troth(tmp_path, port, workers=2)
        try:
            for _ in range(20):  # the server closes each: TIME_WAIT on its side
                response = httpx.get(
                    f"http://127.0.0.1:{port}/healthz", headers={"connection": "close"}
                )
                assert response.status_code == 200
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
