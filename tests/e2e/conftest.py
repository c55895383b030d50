"""A live Troth on a free loopback port and Debian's headless Chromium driven by Playwright."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from troth.app import create_app
from troth.config import Settings
from troth.runtime import Runtime

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LiveServer:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(
            create_app(runtime.settings, runtime), host="127.0.0.1", port=port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live_runtime(tmp_path: Path) -> Iterator[Runtime]:
    policy = Path(__file__).parents[2] / "src" / "troth" / "policy" / "example.yaml"
    (tmp_path / "policy.yaml").write_text(policy.read_text())
    settings = Settings(data_dir=tmp_path / "data", policy_file=tmp_path / "policy.yaml")
    runtime = Runtime.start(settings)
    yield runtime
    runtime.close()


@pytest.fixture
def live_server(live_runtime: Runtime) -> Iterator[LiveServer]:
    with LiveServer(live_runtime) as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI requires Chromium at {CHROMIUM}", pytrace=False)
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
        )
        yield chromium
        chromium.close()


from tests.e2e.customer_site import customer, mapped, visit  # noqa: E402, F401  (fixtures)
