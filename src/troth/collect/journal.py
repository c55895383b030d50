"""The collector's journal: where an event becomes durable before the request is answered.

Each serving process appends to its own segment file and fsyncs once per batch (group
commit): every request waiting in a batch is acknowledged after that one fsync. Segments
are sealed (renamed *.open -> *.seg) every `seal_after` seconds or `max_bytes`; the ingester
moves sealed segments into the database. No database lock is taken on the request path, so
any number of processes can collect into one SQLite file.

Record format: 4-byte little-endian length, 4-byte CRC-32 of the payload, payload. A torn
tail (a crash mid-write, never acknowledged) fails its CRC and is ignored.
"""

from __future__ import annotations

import asyncio
import fcntl
import itertools
import os
import struct
import threading
import time
import weakref
import zlib
from collections.abc import Iterator
from pathlib import Path

HEADER = struct.Struct("<II")
NEW_SUFFIX = ".new"
OPEN_SUFFIX = ".open"
SEALED_SUFFIX = ".seg"
_counter = itertools.count()
_writers: weakref.WeakSet[JournalWriter] = weakref.WeakSet()


def frame(payload: bytes) -> bytes:
    return HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def read_records(data: bytes) -> Iterator[bytes]:
    """Every whole, intact record; stops at the first torn or corrupt one."""
    offset, end = 0, len(data)
    while offset + HEADER.size <= end:
        length, crc = HEADER.unpack_from(data, offset)
        start = offset + HEADER.size
        payload = data[start : start + length]
        if len(payload) != length or zlib.crc32(payload) != crc:
            return
        yield payload
        offset = start + length


def fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Segment:
    """One open segment file, locked by its writer so the ingester can tell it is alive."""

    def __init__(self, directory: Path) -> None:
        name = f"{time.time_ns():020d}-{os.getpid()}-{next(_counter):06d}"
        # Locked before it gets the name the ingester looks at, so a live segment is never
        # mistaken for one whose writer died.
        fresh = directory / f"{name}{NEW_SUFFIX}"
        self.fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.path = directory / f"{name}{OPEN_SUFFIX}"
        os.rename(fresh, self.path)
        fsync_directory(directory)
        self.opened = time.monotonic()
        self.size = 0

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]
        os.fdatasync(self.fd)
        self.size += len(data)

    def seal(self) -> None:
        sealed = self.path.with_suffix(SEALED_SUFFIX)
        os.rename(self.path, sealed)
        fsync_directory(self.path.parent)
        os.close(self.fd)  # closing releases the lock only after the rename is durable

    def discard(self) -> None:
        """Remove a segment nothing was written to (a spare at shutdown)."""
        os.unlink(self.path)
        os.close(self.fd)


class JournalWriter:
    """Group commit for one process: `await append(records)` returns once they are on disk.

    Requests only ever append and fsync. Opening the next segment and sealing the full one
    (a rename and a directory fsync) happen on a rotation thread, off the request path.
    """

    def __init__(self, directory: Path, *, seal_after: float = 0.5, max_bytes: int = 8 << 20):
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.seal_after = seal_after
        self.max_bytes = max_bytes
        self._segment: Segment | None = None
        self._spare: Segment | None = None
        self._pending: list[bytes] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._flushing = False
        self._flush_task: asyncio.Task[None] | None = None
        self._lock = threading.Lock()  # the rotation thread and a flush may run at once
        self._closed = threading.Event()
        self._rotator = threading.Thread(target=self._rotate_forever, daemon=True)
        self._rotator.start()
        _writers.add(self)

    async def append(self, payloads: list[bytes]) -> None:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._pending.extend(frame(p) for p in payloads)
        self._waiters.append(waiter)
        if not self._flushing:
            self._flushing = True
            self._flush_task = loop.create_task(self._flush_loop())
        await waiter

    async def _flush_loop(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                data = b"".join(self._pending)
                waiters = self._waiters
                self._pending, self._waiters = [], []
                try:
                    await loop.run_in_executor(None, self._write, data)
                except OSError as exc:
                    for waiter in waiters:
                        waiter.set_exception(exc)
                    continue
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_result(None)
        finally:
            self._flushing = False

    def _write(self, data: bytes) -> None:
        full = None
        with self._lock:
            segment = self._segment
            if segment is None:
                segment, self._spare = self._spare or Segment(self.directory), None
                self._segment = segment
            segment.write(data)
            if segment.size >= self.max_bytes:
                full, self._segment = segment, None
        if full is not None:
            full.seal()

    def _rotate_forever(self) -> None:
        while not self._closed.wait(self.seal_after):
            try:
                self.rotate()
            except OSError:
                continue  # the next request opens its own segment; the next tick seals

    def rotate(self, *, force: bool = False) -> None:
        """Seal the current segment when it holds data and is old enough; keep a spare ready."""
        if self._spare is None and not self._closed.is_set():
            fresh = Segment(self.directory)
            with self._lock:
                unused = fresh if self._spare is not None else None
                self._spare = self._spare or fresh
            if unused is not None:
                unused.discard()
        with self._lock:
            segment = self._segment
            if segment is None or segment.size == 0:
                return
            if not force and time.monotonic() - segment.opened < self.seal_after:
                return
            self._segment = None
        segment.seal()

    def close(self) -> None:
        """Seal what is open (at shutdown, and in tests), so the ingester takes it at once."""
        self._closed.set()
        self.rotate(force=True)
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is not None:
            spare.discard()


def seal_all() -> None:
    """Seal every open segment of this process (at shutdown, and in tests before ingesting)."""
    for writer in list(_writers):
        writer.close()
