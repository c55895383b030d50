"""The threads `troth serve` runs beside the web app."""

from __future__ import annotations

import dataclasses
import os

import pytest

from troth.background import INGEST_NICENESS, INGEST_POLICY, Background
from troth.keys import ensure_master_key
from troth.runtime import Runtime


@pytest.mark.parametrize(("workers", "niceness"), [(2, INGEST_NICENESS), (1, 0)])
def test_the_ingester_yields_the_cpu_only_beside_worker_processes(
    runtime: Runtime, workers: int, niceness: int
) -> None:
    settings = runtime.settings.model_copy(update={"workers": workers})
    ensure_master_key(settings)
    background = Background(dataclasses.replace(runtime, settings=settings)).start()
    try:
        (ingest,) = [t for t in background.threads if t.name == "troth-ingest"]
        assert ingest.native_id is not None
        base = os.getpriority(os.PRIO_PROCESS, os.getpid())
        expected = min(base + niceness, 19) if niceness else base
        policy = INGEST_POLICY if niceness else os.SCHED_OTHER

        def lowered() -> tuple[int, int]:
            assert ingest.native_id is not None
            thread = ingest.native_id
            return os.getpriority(os.PRIO_PROCESS, thread), os.sched_getscheduler(thread)

        for _ in range(100):  # the thread lowers itself as it starts
            if lowered() == (expected, policy):
                break
            background.stop_event.wait(0.01)
        assert lowered() == (expected, policy)
    finally:
        background.stop()
