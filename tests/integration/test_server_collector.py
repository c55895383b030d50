"""A serving process runs the garbage collector as `troth.collector` says: start-up objects
frozen out of its walks, collections far apart (the ingester's upkeep, CO5)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from troth import collector, server
from troth.keys import ensure_master_key
from troth.runtime import Runtime


@pytest.fixture
def default_collector() -> Iterator[None]:
    saved = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*saved)


def test_co5_serve_tunes_the_collector_before_it_serves(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, default_collector: None
) -> None:
    seen: dict[str, Any] = {}

    def run(app: object, **options: object) -> None:
        seen["threshold"] = gc.get_threshold()
        seen["frozen"] = gc.get_freeze_count()

    monkeypatch.setattr(server.uvicorn, "run", run)
    monkeypatch.setattr(server, "seal_all", lambda: None)
    ensure_master_key(runtime.settings)
    gc.set_threshold(700, 10, 10)
    server.serve(runtime)
    assert seen["threshold"] == collector.THRESHOLDS
    assert seen["frozen"] > 0
