"""Move sealed journal segments into the events table, exactly once.

One ingester runs per data directory (an flock on `ingest.lock` elects it among the serving
processes). A segment's events and its name are committed in one transaction, so replaying
a segment that was ingested but not yet recycled (a crash in between) inserts nothing.
Segments left open by a writer that died are taken too: their lock is free.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from troth.collect.event_insert import insert_events
from troth.collect.journal import (
    OPEN_SUFFIX,
    SEALED_SUFFIX,
    UNSEEDED_OPEN_SUFFIX,
    UNSEEDED_SEALED_SUFFIX,
    drop_free,
    drop_unused,
    read_segment,
    recycle,
)
from troth.collect.models import IngestedSegment
from troth.runtime import Runtime

log = logging.getLogger(__name__)

BatchHook = Callable[[Session, Sequence[dict[str, Any]]], None]
"""Called in the ingesting transaction with a batch of event rows: `before` hooks may fill
in columns (the visit id), `after` hooks see the rows as inserted (rollups)."""

_before: list[BatchHook] = []
_after: list[BatchHook] = []
MAX_EVENTS_PER_TRANSACTION = 50_000
SEGMENT_MEMORY_DAYS = 2


def before_insert(hook: BatchHook) -> BatchHook:
    _before.append(hook)
    return hook


def after_insert(hook: BatchHook) -> BatchHook:
    _after.append(hook)
    return hook


def store_rows(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert event rows with every hook run: the one way events enter the table."""
    if not rows:
        return
    for hook in _before:
        hook(session, rows)
    insert_events(session.connection(), rows)
    for hook in _after:
        hook(session, rows)


def journal_dir(runtime: Runtime) -> Path:
    return runtime.settings.data_dir / "collect" / "journal"


def decode(payload: bytes) -> dict[str, Any]:
    row: dict[str, Any] = orjson.loads(payload)
    row["ts"] = dt.datetime.fromisoformat(row["ts"])
    return row


def _orphaned(path: Path) -> bool:
    """An open segment whose writer is gone: nobody holds its lock any more."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


@dataclass
class Ingester:
    runtime: Runtime
    directory: Path
    _last_forget: dt.datetime | None = None

    @classmethod
    def for_runtime(cls, runtime: Runtime) -> Ingester:
        directory = journal_dir(runtime)
        directory.mkdir(parents=True, exist_ok=True)
        return cls(runtime, directory)

    def ready_segments(self) -> list[Path]:
        drop_unused(self.directory, time.time())
        ready: list[Path] = []
        for open_suffix, sealed_suffix in (
            (OPEN_SUFFIX, SEALED_SUFFIX),
            (UNSEEDED_OPEN_SUFFIX, UNSEEDED_SEALED_SUFFIX),  # written before an upgrade
        ):
            for path in sorted(self.directory.glob(f"*{open_suffix}")):
                if _orphaned(path):
                    path.rename(path.with_suffix(sealed_suffix))
            ready += self.directory.glob(f"*{sealed_suffix}")
        return sorted(ready, key=lambda path: path.name)  # names start with their time

    def run_once(self) -> int:
        """Ingest every ready segment; returns the number of events inserted."""
        inserted = 0
        batch: list[tuple[Path, list[dict[str, Any]]]] = []
        size = 0
        for path in self.ready_segments():
            rows = [decode(payload) for payload in read_segment(path)]
            batch.append((path, rows))
            size += len(rows)
            if size >= MAX_EVENTS_PER_TRANSACTION:
                inserted += self._commit(batch)
                batch, size = [], 0
        if batch:
            inserted += self._commit(batch)
        return inserted

    def _commit(self, batch: list[tuple[Path, list[dict[str, Any]]]]) -> int:
        now = dt.datetime.now(dt.UTC)
        with self.runtime.transaction() as session:
            names = [path.stem for path, _ in batch]
            done = set(
                session.scalars(select(IngestedSegment.name).where(IngestedSegment.name.in_(names)))
            )
            fresh = [(path, rows) for path, rows in batch if path.stem not in done]
            rows = [row for _, segment_rows in fresh for row in segment_rows]
            store_rows(session, rows)
            if fresh:
                session.execute(
                    insert(IngestedSegment),
                    [{"name": p.stem, "events": len(r), "ingested_at": now} for p, r in fresh],
                )
        recycle(path for path, _ in batch)
        return len(rows)

    def forget_old_segments(self, now: dt.datetime) -> None:
        cutoff = now - dt.timedelta(days=SEGMENT_MEMORY_DAYS)
        with self.runtime.transaction() as session:
            session.execute(delete(IngestedSegment).where(IngestedSegment.ingested_at < cutoff))

    def _forget_hourly(self) -> None:
        now = dt.datetime.now(dt.UTC)
        if self._last_forget is None or now - self._last_forget > dt.timedelta(hours=1):
            self.forget_old_segments(now)
            self._last_forget = now

    def run_forever(self, stop: threading.Event, poll_seconds: float = 0.1) -> None:
        lock = _take_leadership(self.directory, stop)
        if lock is None:
            return
        try:
            while not stop.is_set():
                try:
                    self._forget_hourly()
                    if self.run_once() == 0:
                        stop.wait(poll_seconds)
                except Exception as exc:  # keep collecting; the segment stays for the next try
                    log.error("ingest failed: %s", type(exc).__name__)
                    stop.wait(1.0)
            self.run_once()
            drop_free(self.directory)  # nobody would drop them while this process is down
        finally:
            os.close(lock)


def _take_leadership(directory: Path, stop: threading.Event) -> int | None:
    """Block (politely) until this process is the one ingester of the directory."""
    fd = os.open(directory.parent / "ingest.lock", os.O_RDWR | os.O_CREAT, 0o600)
    while not stop.is_set():
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            stop.wait(1.0)
    os.close(fd)
    return None
