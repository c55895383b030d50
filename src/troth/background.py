"""The threads a serving Troth runs beside the web app: the job worker and the ingester."""

from __future__ import annotations

import threading

from troth.analytics import rollups  # importing registers the rollup hooks
from troth.collect import linking as _linking  # importing registers the identity-link hook
from troth.collect.ingest import Ingester
from troth.comms import sending
from troth.comms.outbox import Outbox
from troth.jobs.registry import registry as app_registry
from troth.jobs.worker import Worker
from troth.runtime import Runtime


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
        ingest = threading.Thread(
            target=self.ingester.run_forever,
            args=(self.stop_event, 0.1),
            name="troth-ingest",
            daemon=True,
        )
        ingest.start()
        self.threads = [worker.start(self.stop_event, poll), ingest]
        return self

    def stop(self) -> None:
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout=10)
        with self.runtime.transaction() as session:
            rollups.persist_now(session)  # recovery from raw events would cover it, slower
