"""The threads a serving Troth runs beside the web app: the job worker and the ingester."""

from __future__ import annotations

import contextlib
import os
import threading

from troth.analytics import rollups  # importing registers the rollup hooks
from troth.collect import linking as _linking  # importing registers the identity-link hook
from troth.collect.ingest import Ingester
from troth.comms import sending
from troth.comms.outbox import Outbox
from troth.jobs.registry import registry as app_registry
from troth.jobs.worker import Worker
from troth.runtime import Runtime

INGEST_NICENESS = 19
"""The ingester may lag: the journal holds what it has not stored yet. At the lowest priority
it uses the CPU the web workers leave idle, so answering requests wins under load."""
INGEST_POLICY = getattr(os, "SCHED_IDLE", None)
"""Linux's idle scheduling class, on top of the niceness: a worker that wakes takes the core
from the ingester at once, where a nice task may finish its slice first, a few milliseconds
of a request's wait (bench/README.md). A starved ingester holding SQLite's write lock cannot
block the web workers for long: a worker waiting for the lock sleeps, and frees a core. The
job runner and uvicorn's supervisor beside it in this process may wait for it to hand over
the GIL while every core is busy; both can wait."""


class Background:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.stop_event = threading.Event()
        self.ingester = Ingester.for_runtime(runtime)
        _linking.attach(runtime)  # the ingester may run where no pipeline ever did
        self.threads: list[threading.Thread] = []

    def start(self) -> Background:
        poll = self.runtime.settings.job_poll_seconds
        registry = app_registry.extended()
        sending.register(registry, Outbox.for_runtime(self.runtime, self.runtime.keys))
        worker = Worker.for_runtime(self.runtime, registry)
        # With one process the ingester shares the web app's GIL; a starved holder would stall
        # the requests, so only an ingester beside separate worker processes is lowered.
        niceness = INGEST_NICENESS if self.runtime.settings.workers > 1 else 0
        ingest = threading.Thread(
            target=self._ingest, args=(niceness,), name="troth-ingest", daemon=True
        )
        ingest.start()
        self.threads = [worker.start(self.stop_event, poll), ingest]
        return self

    def _ingest(self, niceness: int) -> None:
        if niceness:
            thread = threading.get_native_id()  # a thread id: only this thread is lowered
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, thread, niceness)
            if INGEST_POLICY is not None:
                with contextlib.suppress(OSError):
                    os.sched_setscheduler(thread, INGEST_POLICY, os.sched_param(0))
        self.ingester.run_forever(self.stop_event, 0.1)

    def stop(self) -> None:
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout=10)
        with self.runtime.transaction() as session:
            rollups.persist_now(session)  # recovery from raw events would cover it, slower
