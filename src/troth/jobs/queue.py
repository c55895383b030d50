"""The durable job queue: enqueue with the business change, claim, and record the outcome.

Delivery is at least once: a job whose worker stops before recording the outcome is claimed again
when its lease runs out, so handlers must be safe to run twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from troth.jobs.models import Job, JobStatus

log = logging.getLogger(__name__)

DEFAULT_LEASE = dt.timedelta(minutes=5)
MAX_BACKOFF = dt.timedelta(hours=1)
MAX_ERROR_CHARS = 500
MAX_KIND_CHARS = 64
LEASE_EXPIRED = "LeaseExpired: the worker stopped before recording an outcome"


def utc(moment: dt.datetime | None) -> dt.datetime:
    """The given moment (or now) in UTC; SQLite keeps no zone, so every stored time is UTC."""
    if moment is None:
        return dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        raise ValueError("job times must be timezone-aware")
    return moment.astimezone(dt.UTC)


def backoff(attempts: int) -> dt.timedelta:
    """The wait before the next try after `attempts` failed tries: 2, 4, 8 … seconds, capped."""
    exponent = min(max(attempts, 0), 20)  # 2**20 s is far past the cap
    return min(dt.timedelta(seconds=2**exponent), MAX_BACKOFF)


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    *,
    run_after: dt.datetime | None = None,
    max_attempts: int = 5,
) -> Job:
    """Add a job to the caller's transaction; it exists only if that transaction commits."""
    if not kind or len(kind) > MAX_KIND_CHARS:
        raise ValueError(f"job kind must be 1 to {MAX_KIND_CHARS} characters")
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    now = utc(None)
    job = Job(
        kind=kind,
        payload=payload,
        status=JobStatus.queued,
        attempts=0,
        max_attempts=max_attempts,
        run_after=utc(run_after) if run_after else now,
        created_at=now,
    )
    session.add(job)
    session.flush()
    log.debug("enqueued job %s (%s)", job.id, job.kind)
    return job


def _claimable(now: dt.datetime) -> Any:
    ready = and_(Job.status == JobStatus.queued, Job.run_after <= now)
    abandoned = and_(Job.status == JobStatus.running, Job.locked_until <= now)
    return or_(ready, abandoned)


def claim(
    session: Session,
    worker_id: str,
    *,
    limit: int = 1,
    lease: dt.timedelta = DEFAULT_LEASE,
    now: dt.datetime | None = None,
) -> list[Job]:
    """Take up to `limit` due jobs, oldest first, for `worker_id` until the lease runs out."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    now = utc(now)
    # PostgreSQL: SKIP LOCKED lets concurrent workers pass over rows another one is claiming.
    # SQLite drops the clause; its BEGIN IMMEDIATE already makes the transaction the only writer.
    stmt = (
        select(Job)
        .where(_claimable(now))
        .order_by(Job.run_after, Job.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = []
    for job in session.scalars(stmt):
        if job.status == JobStatus.running and job.attempts >= job.max_attempts:
            _finish_failed(job, LEASE_EXPIRED, now)
            log.warning("job %s (%s) failed: lease expired on its last attempt", job.id, job.kind)
            continue
        job.status = JobStatus.running
        job.locked_by = worker_id
        job.locked_until = now + lease
        job.attempts += 1
        claimed.append(job)
    session.flush()
    return claimed


def _held(session: Session, job: Job) -> Job | None:
    """The stored row if `job`'s claim still stands (same worker, same attempt), else None."""
    holder, attempt = job.locked_by, job.attempts
    row = session.get(Job, job.id, with_for_update=True, populate_existing=True)
    if row is None or row.status != JobStatus.running:
        return None
    if row.locked_by != holder or row.attempts != attempt:
        return None
    return row


def complete(session: Session, job: Job, now: dt.datetime | None = None) -> bool:
    """Mark the job done; False (and no change) if its lease passed to another worker."""
    row = _held(session, job)
    if row is None:
        log.warning("job %s (%s) lost its lease before completing", job.id, job.kind)
        return False
    row.status = JobStatus.done
    row.locked_by = row.locked_until = None
    row.finished_at = utc(now)
    session.flush()
    return True


def fail(
    session: Session,
    job: Job,
    error: str,
    now: dt.datetime | None = None,
    *,
    final: bool = False,
) -> bool:
    """Record a failed attempt: retry after a backoff, or fail for good after the last attempt.

    `error` is an exception class and message, never personal data. `final` skips the retries.
    """
    row = _held(session, job)
    if row is None:
        log.warning("job %s (%s) lost its lease before failing", job.id, job.kind)
        return False
    now = utc(now)
    if final or row.attempts >= row.max_attempts:
        _finish_failed(row, error, now)
    else:
        row.status = JobStatus.queued
        row.locked_by = row.locked_until = None
        row.last_error = error[:MAX_ERROR_CHARS]
        row.run_after = now + backoff(row.attempts)
    session.flush()
    return True


def _finish_failed(job: Job, error: str, now: dt.datetime) -> None:
    job.status = JobStatus.failed
    job.locked_by = job.locked_until = None
    job.last_error = error[:MAX_ERROR_CHARS]
    job.finished_at = now


def failed_jobs(session: Session, *, limit: int = 100) -> list[Job]:
    """Jobs that gave up, most recent first."""
    stmt = (
        select(Job)
        .where(Job.status == JobStatus.failed)
        .order_by(Job.finished_at.desc(), Job.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def counts(session: Session) -> dict[JobStatus, int]:
    """How many jobs are in each status (every status present, zero included)."""
    totals = dict.fromkeys(JobStatus, 0)
    stmt = select(Job.status, func.count()).group_by(Job.status)
    for status, count in session.execute(stmt):
        totals[JobStatus(status)] = count
    return totals
