"""The public policy page in a real Chromium: complete, dated, and nothing from another origin."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from tests.e2e.conftest import LiveServer
from troth.policy import service
from troth.policy.loader import load_policy


def _publish(server: LiveServer) -> None:
    runtime = server.runtime
    with runtime.transaction() as session:
        loaded = load_policy(runtime.settings.policy_file)
        service.publish(session, loaded, "test", dt.datetime.now(dt.UTC))
    runtime.policy_changed()


def test_pc1_policy_page_renders_with_last_updated_and_no_third_party_requests(
    live_server: LiveServer, browser: Any, tmp_path: Any
) -> None:
    _publish(live_server)
    page = browser.new_page()
    origins: set[str] = set()
    page.on("request", lambda request: origins.add(urlsplit(request.url).netloc))
    response = page.goto(f"{live_server.url}/privacy")
    assert response is not None
    assert response.status == 200
    body = page.inner_text("body")
    assert "Last Updated" in body
    assert "November 1, 2026" in body or "2026-11-01" in body
    assert "Lumen Insights, Inc." in body
    # the stylesheet applied: the page is laid out, not raw
    assert page.evaluate("getComputedStyle(document.body).margin") is not None
    shot = tmp_path / "privacy.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    page.goto(f"{live_server.url}/privacy/history")
    assert "1" in page.inner_text("main")
    page.close()
    assert origins == {urlsplit(live_server.url).netloc}
