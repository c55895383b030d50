"""Run queued jobs: claim, handle each in its own transaction, record the outcome.

Logs carry job ids and kinds only; payloads and error messages may hold personal data.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from troth.db import unit_of_work
from troth.jobs import queue
from troth.jobs.models import Job
from troth.jobs.registry import Registry
from troth.jobs.registry import registry as app_registry

if TYPE_CHECKING:
    from troth.runtime import Runtime

log = logging.getLogger(__name__)


def default_worker_id() -> str:
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def describe(exc: BaseException) -> str:
    """The text kept in last_error: the exception's class and message."""
    return f"{type(exc).__name__}: {exc}"[: queue.MAX_ERROR_CHARS]


def run_once(
    sessions: sessionmaker[Session],
    registry: Registry,
    worker_id: str,
    now: dt.datetime | None = None,
    *,
    limit: int = 1,
    lease: dt.timedelta = queue.DEFAULT_LEASE,
) -> int:
    """Claim due jobs and run them; returns how many were claimed."""
    with unit_of_work(sessions) as session:
        jobs = queue.claim(session, worker_id, limit=limit, lease=lease, now=now)
    for job in jobs:
        _run(sessions, registry, job, now)
    return len(jobs)


def _run(
    sessions: sessionmaker[Session], registry: Registry, job: Job, now: dt.datetime | None
) -> None:
    fn = registry.get(job.kind)
    if fn is None:
        log.error("job %s: no handler for kind %s", job.id, job.kind)
        error = f"UnknownJobKind: no handler is registered for kind {job.kind!r}"
        with unit_of_work(sessions) as session:
            queue.fail(session, job, error, now, final=True)
        return
    try:
        with unit_of_work(sessions) as session:
            fn(session, dict(job.payload))
    except Exception as exc:
        log.warning(
            "job %s (%s) attempt %s failed with %s",
            job.id,
            job.kind,
            job.attempts,
            type(exc).__name__,
        )
        with unit_of_work(sessions) as session:
            queue.fail(session, job, describe(exc), now)
        return
    with unit_of_work(sessions) as session:
        queue.complete(session, job, now)
    log.info("job %s (%s) done", job.id, job.kind)


@dataclass
class Worker:
    """Polls the queue until told to stop; meant for a background thread of `troth serve`."""

    sessions: sessionmaker[Session]
    registry: Registry
    worker_id: str = field(default_factory=default_worker_id)
    lease: dt.timedelta = queue.DEFAULT_LEASE

    @classmethod
    def for_runtime(cls, runtime: Runtime, registry: Registry = app_registry) -> Worker:
        """A worker on the runtime's database with the application's handlers."""
        return cls(runtime.sessions, registry)

    def run_forever(self, stop: threading.Event, poll_seconds: float = 1.0) -> None:
        log.info("job worker %s started", self.worker_id)
        while not stop.is_set():
            if self._poll() == 0:
                stop.wait(poll_seconds)
        log.info("job worker %s stopped", self.worker_id)

    def start(self, stop: threading.Event, poll_seconds: float = 1.0) -> threading.Thread:
        """Run in a daemon thread; stop with `stop.set()` then `thread.join()`."""
        thread = threading.Thread(
            target=self.run_forever,
            args=(stop, poll_seconds),
            name=f"troth-jobs-{self.worker_id}",
            daemon=True,
        )
        thread.start()
        return thread

    def _poll(self) -> int:
        try:
            return run_once(self.sessions, self.registry, self.worker_id, lease=self.lease)
        except Exception as exc:
            # The database may be briefly unreachable; claimed jobs return when their lease ends.
            log.error("job worker %s: poll failed with %s", self.worker_id, type(exc).__name__)
            return 0
