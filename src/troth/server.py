"""Run the web app and the job worker together in one process."""

from __future__ import annotations

import threading

import uvicorn

from troth.app import create_app
from troth.jobs.worker import Worker
from troth.runtime import Runtime


def serve(runtime: Runtime) -> None:
    settings = runtime.settings
    stop = threading.Event()
    worker = Worker.for_runtime(runtime)
    thread = threading.Thread(
        target=worker.run_forever, args=(stop, settings.job_poll_seconds), daemon=True
    )
    thread.start()
    try:
        uvicorn.run(create_app(settings, runtime), host=settings.host, port=settings.port)
    finally:
        stop.set()
        thread.join(timeout=10)
        runtime.close()
