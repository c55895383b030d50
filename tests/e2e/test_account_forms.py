"""The hosted sign-up form in a real Chromium: the strength meter follows the typing (SE2)."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import LiveServer
from troth.keys import ensure_master_key


def test_se2_sign_up_form_meter_updates_and_reuse_warning_shows(
    live_server: LiveServer, browser: Any
) -> None:
    ensure_master_key(live_server.runtime.settings)
    context = browser.new_context()
    page = context.new_page()
    outside: list[str] = []
    page.on(
        "request",
        lambda request: (
            outside.append(request.url) if not request.url.startswith(live_server.url) else None
        ),
    )
    page.goto(f"{live_server.url}/accounts/sign-up")

    warning = page.locator("#reuse-warning")
    assert warning.is_visible()
    assert "Do not reuse a password" in warning.inner_text()

    meter = page.locator("#strength-meter")
    text = page.locator("#strength-text")
    page.fill("#email", "grace.hopper@compilers.example")
    page.locator("#password").press_sequentially("password1", delay=20)
    expect(text).not_to_have_attribute("data-score", "")
    weak = int(meter.evaluate("m => m.value"))
    assert weak <= 1
    assert "Not accepted" in text.inner_text()

    page.locator("#password").press_sequentially(" velvet tugboats wander slowly", delay=10)
    expect(text).to_have_attribute("data-score", re.compile("^[34]$"))
    assert int(meter.evaluate("m => m.value")) > weak
    assert text.get_attribute("data-score") in {"3", "4"}

    page.click("button[type=submit]")
    page.wait_for_selector("text=Your account is ready")
    assert outside == []
    context.close()
