"""Run the web app (one process or several workers) with the background threads."""

from __future__ import annotations

import os
from typing import Any

import uvicorn

from troth import collector, workers
from troth.app import serving_app
from troth.background import Background
from troth.collect.endpoint import CollectEndpoint
from troth.collect.journal import seal_all
from troth.config import Settings
from troth.runtime import Runtime

WORKER_SETTINGS_ENV = "TROTH_WORKER_SETTINGS"


def app_for_worker() -> CollectEndpoint:
    """Each uvicorn worker process builds its app from the settings the parent handed over."""
    settings = Settings.model_validate_json(os.environ[WORKER_SETTINGS_ENV])
    app = serving_app(settings, Runtime.start(settings, run_migrations=False))
    collector.tune()
    return app


def serve(runtime: Runtime) -> None:
    settings = runtime.settings
    background = Background(runtime).start()
    app: CollectEndpoint | str = serving_app(settings, runtime)
    if settings.workers > 1:
        _hand_over(settings)
        app = "troth.server:app_for_worker"
    collector.tune()
    try:
        options: dict[str, Any] = {
            "host": settings.host,
            "port": settings.port,
            "access_log": False,  # access lines carry client addresses: personal data
            "proxy_headers": False,  # serving_app reads them (forwarded_allow_ips)
        }
        if settings.workers > 1:
            workers.run(uvicorn.Config(app, factory=True, workers=settings.workers, **options))
        else:
            uvicorn.run(app, **options)
    finally:
        seal_all()  # first, so the ingester's last pass takes what this process wrote
        background.stop()
        runtime.close()


def _hand_over(settings: Settings) -> None:
    secret = settings.master_key
    if secret is not None:
        os.environ["TROTH_MASTER_KEY"] = secret.get_secret_value()
    os.environ[WORKER_SETTINGS_ENV] = settings.model_dump_json(exclude={"master_key"})
