"""fdatasync through io_uring, so that an event loop goes on serving while its disk syncs.

The kernel runs a submitted sync on a worker thread of its own and posts the result to the
ring's completion queue, and an eventfd registered with the ring becomes readable: the event
loop's reader collects the result like any other I/O. A Python thread doing the same must
take the interpreter lock back from the busy loop to report each sync; tried, it left the
half-load p99 where it was, and through the ring it fell by 0.1–1.3 ms in each of six
pairs (`bench/README.md`, "Syncs through io_uring"). The sync costs 10–20 µs more CPU
than on the loop's own thread (`bench/sync_ring.py`); waiting on the ring's own descriptor
instead of an eventfd came out cheaper in some runs and dearer in others.

Linux only, through the optional `io-uring` extra (the binding's wheels are for x86-64).
`open_ring` returns None where io_uring is missing or refused (the extra not installed,
another system, an old kernel, a seccomp profile that blocks it, `kernel.io_uring_disabled`);
the journal then syncs on the loop's own thread.
"""

from __future__ import annotations

import contextlib
import logging
import os
import weakref
from typing import Any

log = logging.getLogger(__name__)

ENTRIES = 8
"""Submission slots: a journal writer keeps one sync in flight."""


class SyncRing:
    """One io_uring instance that runs fdatasyncs, with an eventfd that signals their end."""

    def __init__(self) -> None:
        import liburing  # a compiled wheel for Linux; ImportError elsewhere

        self._lib: Any = liburing
        self._ring = liburing.Ring()
        liburing.io_uring_queue_init(ENTRIES, self._ring)
        try:
            self._eventfd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        except OSError:
            liburing.io_uring_queue_exit(self._ring)
            raise
        weakref.finalize(self, _release, liburing, self._ring, self._eventfd)
        liburing.io_uring_register_eventfd(self._ring, self._eventfd)
        self._cqe = liburing.Cqe()
        self.in_flight = 0

    def fileno(self) -> int:
        """The eventfd to wait on for `results`: readable once a sync has ended."""
        return self._eventfd

    def submit_datasync(self, fd: int) -> None:
        """Start an fdatasync of `fd`; its result comes from `results`."""
        lib = self._lib
        sqe = lib.io_uring_get_sqe(self._ring)
        if sqe is None:
            raise OSError(11, "no free submission slot")
        lib.io_uring_prep_fsync(sqe, fd, lib.IORING_FSYNC_DATASYNC)
        if lib.io_uring_submit(self._ring) != 1:  # else no result would ever come
            raise OSError(5, "the ring took no sync")
        self.in_flight += 1

    def results(self) -> list[OSError | None]:
        """The syncs that ended since the last call, in the order they ended: None for one
        that succeeded, the error of one that failed. Never blocks."""
        with contextlib.suppress(BlockingIOError):
            os.eventfd_read(self._eventfd)
        lib = self._lib
        ended: list[OSError | None] = []
        while lib.io_uring_cq_ready(self._ring):
            lib.io_uring_peek_cqe(self._ring, self._cqe)
            try:
                _ = self._cqe[0].res  # a negative result is raised as its OSError
            except OSError as error:
                ended.append(error)
            else:
                ended.append(None)
            lib.io_uring_cq_advance(self._ring, 1)
        self.in_flight -= len(ended)
        return ended

    def wait(self) -> list[OSError | None]:
        """Block until a sync in flight ends (for a writer whose event loop is gone)."""
        if not self.in_flight:
            return []
        self._lib.io_uring_wait_cqe(self._ring, self._cqe)
        return self.results()


def _release(lib: Any, ring: Any, eventfd: int) -> None:
    with contextlib.suppress(RuntimeError):  # already released
        lib.io_uring_queue_exit(ring)
    os.close(eventfd)


def open_ring() -> SyncRing | None:
    """A ring for this process's syncs, or None where io_uring cannot be used."""
    try:
        return SyncRing()
    except (ImportError, OSError) as exc:
        log.info("journal syncs on the event loop's thread: io_uring unavailable (%s)", exc)
        return None
