"""Several web worker processes on one port, each accepting connections on a socket of its own.

uvicorn's workers share the one listening socket their parent binds. Whichever worker wakes
first accepts every connection waiting, so connections opened together (a proxy's keep-alive
pool, a load generator) mostly land on one worker: it saturates a core while the other idles,
and its requests wait behind each other. On Linux each worker here binds a socket of its own
to the port with SO_REUSEPORT, and the kernel spreads new connections over the workers by a
hash of their addresses. The parent binds the port too, without listening on it, so the port
stays reserved while a worker is replaced; a replaced worker's queued, not yet accepted
connections are lost with it (they were not answered).
"""

from __future__ import annotations

import logging
import socket
import sys
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

log = logging.getLogger("uvicorn.error")
SPREAD = sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")
"""Whether the kernel spreads connections over sockets sharing a port (Linux)."""


def _bind(sock: socket.socket, address: Any, *, reuse_address: bool = True) -> None:
    try:
        if reuse_address:  # binds beside connections of an earlier run still in TIME_WAIT
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise


def bound_socket(family: int, address: Any) -> socket.socket:
    """A new socket bound to `address` beside the others sharing the port (not listening)."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    _bind(sock, address)
    return sock


class PortSocket(socket.socket):
    """The parent's socket: sent to each worker process as a new socket bound to the same
    address (pickling is how uvicorn hands sockets to the processes it spawns)."""

    def __reduce__(self) -> tuple[Any, tuple[int, Any]]:
        return bound_socket, (self.family, self.getsockname())


def port_socket(host: str, port: int) -> PortSocket:
    """The parent's socket, once the port is known to be free. Any process of the same user
    may bind a port that sockets share, so a second server started on this port would
    otherwise join this one's sockets and take part of its connections. The probe fails
    while any server holds the port: the listening sockets of one, or the parent socket of
    this kind, which lets no plain socket bind beside it (it does not reuse addresses)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
        address = probe.getsockname()  # port 0: the one the system chose
    sock = PortSocket(family, socket.SOCK_STREAM)
    _bind(sock, address, reuse_address=False)
    return sock


def run(config: uvicorn.Config) -> None:
    """Serve `config.app` (an import string) in `config.workers` processes."""
    if not SPREAD:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
        return
    try:
        sock = port_socket(config.host, config.port)
    except OSError as exc:
        log.error("%s", exc)
        sys.exit(STARTUP_FAILURE)
    log.info("Uvicorn running on %s port %d, a socket per worker", *sock.getsockname()[:2])
    Multiprocess(config, sockets=[sock]).run()
