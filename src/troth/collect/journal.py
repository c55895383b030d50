"""The collector's journal: where an event becomes durable before the request is answered.

Each serving process appends to its own segment file and fsyncs once per batch (group
commit): the records appended in one turn of the event loop (a busy batch waits a few turns
more while it grows, see DEFER_AT) are written and fsynced together, and every request
waiting on them is acknowledged after that one fsync. Segments are sealed (renamed
*.writing -> *.sealed) every `seal_after` seconds or `max_bytes`; the ingester moves sealed
segments into the database. No database lock is taken on the request path, so any number of
processes can collect into one SQLite file.

Record format: 4-byte little-endian length, 4-byte CRC-32 of the payload (started from the
segment's seed), payload. A torn tail (a crash mid-write, never acknowledged) fails its CRC
and is ignored.

Ingested segments are recycled (*.free) for a while rather than deleted: a writer overwrites
one from the start, and an fdatasync of blocks the file already has writes no new file size
and no block allocation, one device request fewer per batch than an appended file needs.
So that the old records beyond the new ones are never read back, a segment's CRCs start
from a seed derived from its own name: an old record fails that CRC and ends the segment.
Sealing cuts the file to its own records, so a file never carries more than one earlier
use's records, and none once it is sealed again.

Segments written before seeding were named *.open and *.seg and are read with seed 0. The
new suffixes keep an older ingester (during an upgrade) from reading seeded segments as
empty and discarding them: it does not see them at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import itertools
import logging
import os
import struct
import threading
import time
import weakref
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from troth.collect.uring import SyncRing, open_ring

HEADER = struct.Struct("<II")
NEW_SUFFIX = ".new"
OPEN_SUFFIX = ".writing"
SEALED_SUFFIX = ".sealed"
FREE_SUFFIX = ".free"
UNSEEDED_OPEN_SUFFIX = ".open"
UNSEEDED_SEALED_SUFFIX = ".seg"
"""Segments of a version before seeded CRCs: read with seed 0."""
DEFER_AT = 6
"""Requests in a batch from which it waits for more before its fdatasync: one event-loop
turn, and another while requests keep joining it, up to DEFER_TURNS. On this project's
machines each fdatasync costs tens of microseconds of CPU, so what a durable answer costs
follows how many requests share one (`bench/README.md`). Like PostgreSQL's commit_delay,
which waits only when commit_siblings others are active."""
DEFER_TURNS = 3
MAX_FREE = 8
"""Ingested segments kept for reuse; beyond this they are deleted."""
MAX_RECYCLED_BYTES = 16 << 20
FREE_FOR_SECONDS = 60.0
"""How long an ingested segment may wait for reuse, and a spare made of one for its first
record. Its events are already in the database, and an old copy on disk should not outlive
them by much (an erasure, say): then it is deleted."""
_counter = itertools.count()
log = logging.getLogger(__name__)
_writers: weakref.WeakSet[JournalWriter] = weakref.WeakSet()


def frame(payload: bytes, seed: int = 0) -> bytes:
    return HEADER.pack(len(payload), zlib.crc32(payload, seed)) + payload


def read_records(data: bytes, seed: int = 0) -> Iterator[bytes]:
    """Every whole, intact record; stops at the first torn, corrupt or stale one."""
    offset, end = 0, len(data)
    while offset + HEADER.size <= end:
        length, crc = HEADER.unpack_from(data, offset)
        start = offset + HEADER.size
        payload = data[start : start + length]
        if len(payload) != length or zlib.crc32(payload, seed) != crc:
            return
        yield payload
        offset = start + length


def seed_of(path: Path) -> int:
    """The CRC seed of a segment file: from its name, but 0 for an unseeded one."""
    if path.suffix in (UNSEEDED_OPEN_SUFFIX, UNSEEDED_SEALED_SUFFIX):
        return 0
    return zlib.crc32(path.stem.encode())


def read_segment(path: Path) -> Iterator[bytes]:
    """The records of one segment file, seeded or not."""
    return read_records(path.read_bytes(), seed_of(path))


def recycle(paths: Iterable[Path]) -> None:
    """Ingested segments: kept for writers to overwrite, up to MAX_FREE, or deleted."""
    paths = list(paths)
    if not paths:
        return
    kept = len(list(paths[0].parent.glob(f"*{FREE_SUFFIX}")))  # writers only take from it
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            if kept < MAX_FREE and path.stat().st_size <= MAX_RECYCLED_BYTES:
                os.utime(path)  # its wait for reuse starts now
                path.rename(path.with_suffix(FREE_SUFFIX))
                kept += 1
            else:
                path.unlink()


def drop_unused(directory: Path, now: float) -> None:
    """Delete segments kept for reuse longer than FREE_FOR_SECONDS, and segments a writer
    died with before it named them (*.new: they may hold a recycled file's old records)."""
    for path in directory.glob(f"*{FREE_SUFFIX}"):
        with contextlib.suppress(FileNotFoundError):
            if now - path.stat().st_mtime > FREE_FOR_SECONDS:
                path.unlink()
    for path in directory.glob(f"*{NEW_SUFFIX}"):
        # By the time in its name: a recycled file keeps its old modification time, and a
        # live writer holds a *.new for the two renames that make it *.writing.
        made = path.name.partition("-")[0]
        if made.isdigit() and now - int(made) / 1e9 > FREE_FOR_SECONDS:
            path.unlink(missing_ok=True)


def drop_free(directory: Path) -> None:
    """Delete every segment kept for reuse (when the ingester stops: nobody drops them)."""
    for path in directory.glob(f"*{FREE_SUFFIX}"):
        path.unlink(missing_ok=True)


def _claim(directory: Path, fresh: Path) -> int | None:
    """A locked descriptor of an ingested segment, renamed to `fresh`; None when there is
    none. The rename is what claims a file: of several writers, one gets each."""
    for free in sorted(directory.glob(f"*{FREE_SUFFIX}")):
        try:
            os.rename(free, fresh)
        except FileNotFoundError:
            continue
        fd = os.open(fresh, os.O_WRONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # its last writer has not closed it yet: not reusable
            os.close(fd)
            os.unlink(fresh)
            continue
        return fd
    return None


def fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Segment:
    """One open segment file, locked by its writer so the ingester can tell it is alive."""

    def __init__(self, directory: Path, *, reuse: bool = True) -> None:
        name = f"{time.time_ns():020d}-{os.getpid()}-{next(_counter):06d}"
        # Locked before it gets the name the ingester looks at, so a live segment is never
        # mistaken for one whose writer died.
        fresh = directory / f"{name}{NEW_SUFFIX}"
        fd = _claim(directory, fresh) if reuse else None
        self.recycled = fd is not None
        if fd is None:
            fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.fd = fd
        self.path = directory / f"{name}{OPEN_SUFFIX}"
        self.seed = seed_of(self.path)
        try:
            os.rename(fresh, self.path)
            fsync_directory(directory)
        except OSError:
            os.close(fd)
            raise
        self.opened = time.monotonic()
        self.size = 0
        self.syncing = 0  # fdatasyncs in flight (under the writer's lock): no closing until 0

    def write(self, data: bytes) -> None:
        """Append after the records written so far (not yet durable: see `sync`); in a
        recycled file, over its old records."""
        view = memoryview(data)
        while view:
            written = os.pwrite(self.fd, view, self.size)
            self.size += written
            view = view[written:]

    def sync(self) -> None:
        os.fdatasync(self.fd)

    def age(self) -> float:
        """Seconds since this segment was made."""
        return time.monotonic() - self.opened

    def seal(self) -> None:
        try:
            os.ftruncate(self.fd, self.size)  # a recycled file's old records go
            sealed = self.path.with_suffix(SEALED_SUFFIX)
            os.rename(self.path, sealed)
            fsync_directory(self.path.parent)
        finally:
            os.close(self.fd)  # closing releases the lock only after the rename is durable

    def discard(self) -> None:
        """Remove a segment nothing was written to (a spare at shutdown)."""
        os.unlink(self.path)
        os.close(self.fd)


class JournalWriter:
    """Group commit for one process: `await append(records)` returns once they are on disk.

    The first append of an event-loop turn schedules a flush for the next turn; every record
    appended until then joins it. A batch of DEFER_AT requests or more waits one turn more,
    and another while requests keep joining it, up to DEFER_TURNS: a busy worker then syncs
    less often, and a quiet one, whose batches are small, waits no longer. The flush writes
    the batch with one write on the loop's own thread and starts its fdatasync through
    io_uring (`uring.py`): the loop goes on reading and checking requests, which form the
    next batch, and answers the synced batch when the ring reports the sync's end. One sync
    is in flight at a time, so a failed sync can never be followed by a successful one that
    only looks as if it covered the failed batch's pages. Where io_uring cannot be used the
    loop's thread syncs each batch itself, and answers nothing else meanwhile. Sealing
    segments (a rename and a directory fsync) and preparing the next one happen on a
    rotation thread.
    """

    def __init__(
        self,
        directory: Path,
        *,
        seal_after: float = 0.5,
        max_bytes: int = 8 << 20,
        use_ring: bool = True,
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.seal_after = seal_after
        self.max_bytes = max_bytes
        self._segment: Segment | None = None
        self._spare: Segment | None = Segment(directory)  # the first flush opens nothing
        self._retired: list[Segment] = []  # to seal once nothing syncs them, under _lock
        self._lock = threading.Lock()  # segments: the loop's flush and the rotation thread
        self._synced = threading.Condition(self._lock)  # a segment's last fsync ended
        self._batch = threading.Lock()  # the five below: appends and the flush's hand-over
        self._pending: list[bytes] = []  # the records of the next flush
        self._waiters: list[asyncio.Future[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop _waiters belong to
        self._flushing = False  # that loop is writing and syncing a batch
        self._in_flight: _Batch | None = None  # written, its sync started through the ring
        self._deferred = 0  # turns the pending batch has waited for more
        self._deferred_size = 0  # its size when it last waited
        self._ring = open_ring() if use_ring else None
        self._ring_loop: asyncio.AbstractEventLoop | None = None  # where the ring's reader is
        self._closed = threading.Event()  # stops the rotation thread
        self._rotator = threading.Thread(target=self._rotate_forever, daemon=True)
        self._rotator.start()
        _writers.add(self)

    @property
    def syncs_in_background(self) -> bool:
        """Whether batches are synced through io_uring (else on the loop's thread)."""
        return self._ring is not None

    async def append(self, payloads: list[bytes]) -> None:
        """Returns once the records are fsynced."""
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        with self._batch:
            busy = self._waiters or self._flushing or self._in_flight is not None
            if busy and loop is not self._loop:
                self._take_over_from(loop)
            if not self._waiters:
                self._loop = loop
                loop.call_soon(self._flush)
            self._pending += payloads
            self._waiters.append(waiter)
        await waiter

    def _take_over_from(self, loop: asyncio.AbstractEventLoop) -> None:
        """Under _batch: another loop holds a batch or is flushing one. Refused while that loop
        lives (two loops syncing one file could each miss the other's write error); once it is
        closed its flush will never run, so its records are written here (nobody waits)."""
        assert self._loop is not None
        if not self._loop.is_closed():
            raise RuntimeError("a journal writer serves one event loop at a time")
        self._finish_in_flight_here()
        stale, self._pending, self._waiters = self._pending, [], []
        self._deferred = self._deferred_size = 0
        self._write(stale)

    def _flush(self) -> None:
        """On the event loop: write this turn's records and sync them, or, while a sync is
        in flight, leave them for the flush that follows its end."""
        with self._batch:
            size = len(self._waiters)
            if not size or self._in_flight is not None:
                return
            if size >= DEFER_AT and size > self._deferred_size and self._deferred < DEFER_TURNS:
                self._deferred += 1
                self._deferred_size = size
                asyncio.get_running_loop().call_soon(self._flush)
                return
            self._deferred = self._deferred_size = 0
            batch = _Batch(self._pending, self._waiters)
            self._pending, self._waiters = [], []
            self._flushing = True
        try:
            self._sync_batch(batch)
        finally:
            self._flushing = False

    def _sync_batch(self, batch: _Batch) -> None:
        try:
            batch.segment = self._write_records(batch.payloads)
        except Exception as exc:  # this batch's requests fail; the next batch tries again
            _settle(batch.waiters, exc)
            return
        ring = self._ring_on(asyncio.get_running_loop())
        if ring is None:
            self._synced_now(batch)
            return
        try:
            ring.submit_datasync(batch.segment.fd)
        except Exception as exc:  # not started: no result will come, so the batch fails now
            failed = exc if isinstance(exc, OSError) else OSError(5, f"sync not started: {exc!r}")
            self._sync_ended(batch, failed)
            return
        self._in_flight = batch

    def _ring_on(self, loop: asyncio.AbstractEventLoop) -> SyncRing | None:
        """The ring, its eventfd read by this loop (a writer moves to a new loop only once
        the old one is closed, see _take_over_from)."""
        ring = self._ring
        if ring is not None and self._ring_loop is not loop:
            loop.add_reader(ring.fileno(), self._ring_ready)
            self._ring_loop = loop
        return ring

    def _ring_ready(self) -> None:
        """The ring's reader: answer the batch whose sync ended, then flush what waited."""
        assert self._ring is not None
        for error in self._ring.results():
            batch, self._in_flight = self._in_flight, None
            if batch is not None:
                self._sync_ended(batch, error)
        self._flush()

    def _finish_in_flight_here(self) -> None:
        """A sync in flight whose loop no longer runs: wait for its end on this thread."""
        batch = self._in_flight
        loop = self._ring_loop
        if batch is None or self._ring is None or (loop is not None and loop.is_running()):
            return
        for error in self._ring.wait():
            self._in_flight = None
            self._sync_ended(batch, error, answer=loop is not None and not loop.is_closed())

    def _synced_now(self, batch: _Batch) -> OSError | None:
        """Sync a written batch on this thread, then answer it; returns what failed."""
        assert batch.segment is not None
        error: OSError | None = None
        try:
            batch.segment.sync()
        except OSError as exc:
            error = exc
        self._sync_ended(batch, error)
        return error

    def _sync_ended(self, batch: _Batch, error: OSError | None, *, answer: bool = True) -> None:
        segment = batch.segment
        assert segment is not None
        with self._lock:
            if error is not None:
                # After a failed fdatasync the kernel may mark the pages clean, and a later
                # fsync of the same file would succeed without them: no more batches go here.
                self._retire(segment)
            segment.syncing -= 1
            if not segment.syncing:
                self._synced.notify_all()
        if answer:
            _settle(batch.waiters, error)
        if self._closed.is_set():  # a batch that was still pending when close() ran
            self.rotate(force=True)

    def _write_records(self, payloads: list[bytes]) -> Segment:
        """Append records to the current segment (not yet synced); the segment counts one
        more sync in flight until `_sync_ended`."""
        with self._lock:
            segment = self._segment
            if segment is None:
                segment, self._spare = self._spare or Segment(self.directory), None
                self._segment = segment
            seed = segment.seed
            try:
                # Under the lock: batches land whole and in order.
                segment.write(b"".join([frame(p, seed) for p in payloads]))
            except OSError:
                self._retire(segment)  # a torn record ends what the ingester reads of it
                raise
            if segment.size >= self.max_bytes:
                self._retire(segment)
            segment.syncing += 1
        return segment

    def _write(self, payloads: list[bytes]) -> None:
        """Write and sync records on this thread, raising what failed (nobody waits)."""
        batch = _Batch(payloads, [])
        batch.segment = self._write_records(payloads)
        error = self._synced_now(batch)
        if error is not None:
            raise error

    def _retire(self, segment: Segment) -> None:
        """Under _lock: no more writes go to this segment; it is sealed once synced."""
        if self._segment is segment:
            self._segment = None
        if segment not in self._retired:
            self._retired.append(segment)

    def _seal_retired(self) -> None:
        with self._lock:
            ready = [s for s in self._retired if not s.syncing]
            self._retired = [s for s in self._retired if s.syncing]
        for segment in ready:
            try:
                segment.seal()
            except OSError:
                log.exception(
                    "sealing a journal segment failed; it is taken once this process ends"
                )

    def _rotate_forever(self) -> None:
        while not self._closed.wait(self.seal_after):
            try:
                self.rotate()
            except OSError:
                continue  # the next request opens its own segment; the next tick seals

    def rotate(self, *, force: bool = False) -> None:
        """Seal the current segment when it holds data and is old enough; keep a spare ready."""
        spare, replaced = self._spare, False
        if spare is not None and spare.recycled and spare.age() > FREE_FOR_SECONDS:
            with self._lock:  # an old file's records have waited long enough: a new file
                replaced = self._spare is spare  # unless the loop took it meanwhile
                if replaced:
                    self._spare = None
            if replaced:
                spare.discard()
        if self._spare is None and not self._closed.is_set():
            fresh = Segment(self.directory, reuse=not replaced)
            with self._lock:
                unused = fresh if self._spare is not None else None
                self._spare = self._spare or fresh
            if unused is not None:
                unused.discard()
        with self._lock:
            segment = self._segment
            if segment is not None and segment.size and (force or segment.age() >= self.seal_after):
                self._retire(segment)
        self._seal_retired()  # one still syncing is sealed on the next tick

    def close(self, timeout: float = 30.0) -> None:
        """Seal what is open (at shutdown, and in tests), so the ingester takes it at once.

        Waits for an fsync in flight on the loop's thread, so its segment is sealed too; a
        batch still pending then is sealed by its own flush."""
        self._closed.set()
        self._rotator.join()
        with self._batch:
            self._finish_in_flight_here()
        with self._lock:
            if self._segment is not None and self._segment.size:
                self._retire(self._segment)
            self._synced.wait_for(lambda: not any(s.syncing for s in self._retired), timeout)
        self._seal_retired()
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is not None:
            spare.discard()


@dataclass
class _Batch:
    """Records written together, the requests waiting for them, and the segment they went to."""

    payloads: list[bytes]
    waiters: list[asyncio.Future[None]]
    segment: Segment | None = None


def _settle(waiters: list[asyncio.Future[None]], error: Exception | None) -> None:
    """Answer every request of one batch."""
    for waiter in waiters:
        if waiter.done():  # its request was cancelled (the client went away)
            continue
        if error is None:
            waiter.set_result(None)
        else:
            waiter.set_exception(error)


def seal_all() -> None:
    """Seal every open segment of this process (at shutdown, and in tests before ingesting)."""
    for writer in list(_writers):
        writer.close()
