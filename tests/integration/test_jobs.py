"""The durable job queue on SQLite and PostgreSQL: outbox, retries, leases, restarts."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from troth.db import make_engine, make_session_factory
from troth.jobs import queue
from troth.jobs.models import Job, JobStatus
from troth.jobs.registry import Registry
from troth.jobs.worker import Worker, run_once
from troth.runtime import Runtime

T0 = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)


def as_utc(moment: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands stored times back without a zone; they are UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)


def add_job(runtime: Runtime, kind: str = "test.echo", **kwargs: Any) -> int:
    payload = kwargs.pop("payload", {"n": 1})
    kwargs.setdefault("run_after", T0)
    with runtime.transaction() as session:
        return queue.enqueue(session, kind, payload, **kwargs).id


def load(runtime: Runtime, job_id: int) -> Job:
    with runtime.transaction() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def all_jobs(runtime: Runtime) -> list[Job]:
    with runtime.transaction() as session:
        return list(session.scalars(select(Job).order_by(Job.id)))


class Recorder:
    """A registry whose handlers note each payload they are given."""

    def __init__(self) -> None:
        self.registry = Registry()
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.registry.register("test.echo", self.echo)
        self.registry.register("test.boom", self.boom)

    def echo(self, session: Session, payload: dict[str, Any]) -> None:
        self.calls.append(("test.echo", payload))

    def boom(self, session: Session, payload: dict[str, Any]) -> None:
        self.calls.append(("test.boom", payload))
        queue.enqueue(session, "test.side_effect", {})  # must vanish with the rollback
        raise RuntimeError("handler broke")


def test_run_once_calls_the_handler_with_the_payload_and_marks_done(runtime: Runtime) -> None:
    rec = Recorder()
    job_id = add_job(runtime, payload={"message": "welcome", "n": 3})

    assert run_once(runtime.sessions, rec.registry, "w1", now=T0) == 1

    assert rec.calls == [("test.echo", {"message": "welcome", "n": 3})]
    job = load(runtime, job_id)
    assert job.status == JobStatus.done
    assert job.attempts == 1
    assert as_utc(job.finished_at) == T0
    assert job.locked_by is None
    assert job.locked_until is None
    assert run_once(runtime.sessions, rec.registry, "w1", now=T0 + SECOND) == 0


def test_handler_work_commits_with_the_job(runtime: Runtime) -> None:
    registry = Registry()

    @registry.handler("test.chain")
    def chain(session: Session, payload: dict[str, Any]) -> None:
        queue.enqueue(session, "test.next", {"from": payload["id"]})

    add_job(runtime, "test.chain", payload={"id": 7})
    run_once(runtime.sessions, registry, "w1", now=T0)

    follow_up = [job for job in all_jobs(runtime) if job.kind == "test.next"]
    assert [job.payload for job in follow_up] == [{"from": 7}]


def test_failing_handler_retries_with_backoff_then_fails(runtime: Runtime) -> None:
    rec = Recorder()
    job_id = add_job(runtime, "test.boom", max_attempts=3)

    assert run_once(runtime.sessions, rec.registry, "w1", now=T0) == 1
    job = load(runtime, job_id)
    assert (job.status, job.attempts) == (JobStatus.queued, 1)
    assert as_utc(job.run_after) == T0 + 2 * SECOND
    assert job.last_error == "RuntimeError: handler broke"
    assert job.locked_by is None

    assert run_once(runtime.sessions, rec.registry, "w1", now=T0 + SECOND) == 0  # backing off
    assert run_once(runtime.sessions, rec.registry, "w1", now=T0 + 2 * SECOND) == 1
    job = load(runtime, job_id)
    assert (job.status, job.attempts) == (JobStatus.queued, 2)
    assert as_utc(job.run_after) == T0 + 6 * SECOND  # 2 s then 4 s

    assert run_once(runtime.sessions, rec.registry, "w1", now=T0 + 6 * SECOND) == 1
    job = load(runtime, job_id)
    assert (job.status, job.attempts) == (JobStatus.failed, 3)
    assert job.last_error == "RuntimeError: handler broke"
    assert as_utc(job.finished_at) == T0 + 6 * SECOND
    assert len(rec.calls) == 3
    assert run_once(runtime.sessions, rec.registry, "w1", now=T0 + dt.timedelta(days=1)) == 0


def test_handler_exception_rolls_back_the_handler_work(runtime: Runtime) -> None:
    rec = Recorder()
    add_job(runtime, "test.boom")

    run_once(runtime.sessions, rec.registry, "w1", now=T0)

    assert [job.kind for job in all_jobs(runtime)] == ["test.boom"]


def test_unknown_kind_fails_at_once_with_a_clear_error(runtime: Runtime) -> None:
    job_id = add_job(runtime, "test.nobody", max_attempts=5)

    assert run_once(runtime.sessions, Registry(), "w1", now=T0) == 1

    job = load(runtime, job_id)
    assert job.status == JobStatus.failed
    assert job.attempts == 1
    assert job.last_error is not None
    assert "no handler is registered for kind 'test.nobody'" in job.last_error


def _business_change_that_fails(runtime: Runtime) -> None:
    with runtime.transaction() as session:
        queue.enqueue(session, "test.echo", {"n": 1}, run_after=T0)
        raise RuntimeError("business change failed")


def test_job_enqueued_in_a_rolled_back_transaction_does_not_exist(runtime: Runtime) -> None:
    with pytest.raises(RuntimeError, match="business change failed"):
        _business_change_that_fails(runtime)

    assert all_jobs(runtime) == []
    assert run_once(runtime.sessions, Recorder().registry, "w1", now=T0) == 0


def test_job_survives_a_restart(runtime: Runtime) -> None:
    job_id = add_job(runtime, run_after=None)  # due now, in real time
    runtime.engine.dispose()

    engine = make_engine(runtime.settings.resolved_database_url)
    try:
        rec = Recorder()
        assert run_once(make_session_factory(engine), rec.registry, "w-after-restart") == 1
    finally:
        engine.dispose()

    assert rec.calls == [("test.echo", {"n": 1})]
    assert load(runtime, job_id).status == JobStatus.done


def test_job_of_a_dead_worker_is_claimed_again_only_after_its_lease(runtime: Runtime) -> None:
    rec = Recorder()
    job_id = add_job(runtime)
    lease = dt.timedelta(minutes=5)
    with runtime.transaction() as session:
        [dead] = queue.claim(session, "w-dead", lease=lease, now=T0)  # then it never reports

    before = T0 + lease - SECOND
    assert run_once(runtime.sessions, rec.registry, "w2", now=before, lease=lease) == 0
    assert rec.calls == []

    assert run_once(runtime.sessions, rec.registry, "w2", now=T0 + lease, lease=lease) == 1
    assert rec.calls == [("test.echo", {"n": 1})]
    job = load(runtime, job_id)
    assert (job.status, job.attempts) == (JobStatus.done, 2)

    # The dead worker coming back must not overwrite what the second worker recorded.
    with runtime.transaction() as session:
        assert queue.fail(session, dead, "RuntimeError: late", T0 + lease) is False
    assert load(runtime, job_id).status == JobStatus.done


def test_stale_claim_cannot_complete_a_job_now_held_by_another_worker(runtime: Runtime) -> None:
    job_id = add_job(runtime)
    with runtime.transaction() as session:
        [first] = queue.claim(session, "w-slow", now=T0)
    with runtime.transaction() as session:
        [second] = queue.claim(session, "w-new", now=T0 + dt.timedelta(minutes=6))

    with runtime.transaction() as session:
        assert queue.complete(session, first) is False
    job = load(runtime, job_id)
    assert (job.status, job.locked_by, job.attempts) == (JobStatus.running, "w-new", 2)

    with runtime.transaction() as session:
        assert queue.complete(session, second) is True
    assert load(runtime, job_id).status == JobStatus.done


def test_job_whose_worker_dies_on_every_attempt_fails_in_the_end(runtime: Runtime) -> None:
    job_id = add_job(runtime, max_attempts=2)
    lease = dt.timedelta(minutes=1)
    for minute in (0, 1):
        with runtime.transaction() as session:
            now = T0 + dt.timedelta(minutes=minute)
            assert len(queue.claim(session, "w-crashy", lease=lease, now=now)) == 1

    with runtime.transaction() as session:
        assert queue.claim(session, "w-next", lease=lease, now=T0 + 2 * lease) == []

    job = load(runtime, job_id)
    assert (job.status, job.attempts) == (JobStatus.failed, 2)
    assert job.last_error == queue.LEASE_EXPIRED


def test_run_after_in_the_future_is_not_claimed(runtime: Runtime) -> None:
    rec = Recorder()
    add_job(runtime, run_after=T0 + dt.timedelta(hours=1))

    assert run_once(runtime.sessions, rec.registry, "w1", now=T0) == 0
    assert rec.calls == []
    assert run_once(runtime.sessions, rec.registry, "w1", now=T0 + dt.timedelta(hours=1)) == 1
    assert len(rec.calls) == 1


def test_claim_takes_the_oldest_due_jobs_first(runtime: Runtime) -> None:
    late = add_job(runtime, run_after=T0 - SECOND)
    early = add_job(runtime, run_after=T0 - 3 * SECOND)
    middle = add_job(runtime, run_after=T0 - 2 * SECOND)

    with runtime.transaction() as session:
        claimed = [job.id for job in queue.claim(session, "w1", limit=2, now=T0)]

    assert claimed == [early, middle]
    assert load(runtime, late).status == JobStatus.queued


def test_counts_and_failed_jobs_for_the_console(runtime: Runtime) -> None:
    rec = Recorder()
    add_job(runtime, "test.boom", max_attempts=1)
    add_job(runtime, "test.echo", run_after=T0 - SECOND)
    add_job(runtime, "test.echo", run_after=T0 + dt.timedelta(days=1))
    run_once(runtime.sessions, rec.registry, "w1", now=T0, limit=5)

    with runtime.transaction() as session:
        assert queue.counts(session) == {
            JobStatus.queued: 1,
            JobStatus.running: 0,
            JobStatus.done: 1,
            JobStatus.failed: 1,
        }
        failed = queue.failed_jobs(session)
    assert [(job.kind, job.last_error) for job in failed] == [
        ("test.boom", "RuntimeError: handler broke")
    ]


def test_last_error_is_truncated(runtime: Runtime) -> None:
    registry = Registry()

    @registry.handler("test.long")
    def long_error(session: Session, payload: dict[str, Any]) -> None:
        raise ValueError("x" * 2000)

    job_id = add_job(runtime, "test.long")
    run_once(runtime.sessions, registry, "w1", now=T0)

    last_error = load(runtime, job_id).last_error
    assert last_error is not None
    assert len(last_error) == queue.MAX_ERROR_CHARS
    assert last_error.startswith("ValueError: xxx")


def test_logs_name_ids_and_kinds_but_never_payload_values(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    rec = Recorder()
    secret = "ada.lovelace@example.com"
    caplog.set_level(logging.DEBUG, logger="troth.jobs")
    ok = add_job(runtime, "test.echo", payload={"email": secret})
    bad = add_job(runtime, "test.boom", payload={"email": secret})
    unknown = add_job(runtime, "test.nobody", payload={"email": secret})

    run_once(runtime.sessions, rec.registry, "w1", now=T0, limit=3)

    assert secret not in caplog.text
    assert "handler broke" not in caplog.text
    for job_id, kind in ((ok, "test.echo"), (bad, "test.boom"), (unknown, "test.nobody")):
        assert f"job {job_id}" in caplog.text
        assert kind in caplog.text


def test_worker_thread_runs_jobs_until_stopped(runtime: Runtime) -> None:
    handled = threading.Event()
    registry = Registry()
    registry.register("test.signal", lambda session, payload: handled.set())
    add_job(runtime, "test.signal", run_after=None)

    stop = threading.Event()
    thread = Worker.for_runtime(runtime, registry).start(stop, 0.01)
    try:
        assert handled.wait(timeout=10)
    finally:
        stop.set()
        thread.join(timeout=10)

    assert not thread.is_alive()
    assert [job.status for job in all_jobs(runtime)] == [JobStatus.done]


def test_enqueue_rejects_a_naive_time_and_a_bad_kind(runtime: Runtime) -> None:
    with runtime.transaction() as session:
        with pytest.raises(ValueError, match="timezone-aware"):
            queue.enqueue(session, "test.echo", {}, run_after=dt.datetime(2030, 1, 1))
        with pytest.raises(ValueError, match="job kind"):
            queue.enqueue(session, "k" * 65, {})
        with pytest.raises(ValueError, match="max_attempts"):
            queue.enqueue(session, "test.echo", {}, max_attempts=0)
    assert all_jobs(runtime) == []


def _claim_and_hold(
    runtime: Runtime, worker_id: str, barrier: threading.Barrier, out: dict[str, list[int]]
) -> None:
    with runtime.transaction() as session:
        session.execute(text("SET LOCAL lock_timeout = '5s'"))
        out[worker_id] = [job.id for job in queue.claim(session, worker_id, limit=2, now=T0)]
        barrier.wait(timeout=10)  # both transactions are open, each holding its row locks


def test_concurrent_claims_never_return_the_same_job(runtime: Runtime) -> None:
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: BEGIN IMMEDIATE runs claims one after the other")
    ids = {add_job(runtime) for _ in range(4)}
    barrier = threading.Barrier(2)
    out: dict[str, list[int]] = {}
    threads = [
        threading.Thread(target=_claim_and_hold, args=(runtime, name, barrier, out))
        for name in ("w-a", "w-b")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(out["w-a"]) == len(out["w-b"]) == 2
    assert set(out["w-a"]).isdisjoint(out["w-b"])
    assert set(out["w-a"]) | set(out["w-b"]) == ids
