"""The analytics dashboard in a real Chromium (CO5, CO4, US1): demo traffic, a chart drawn by
the vendored library, a filter that changes the figures, CSV downloads, a non-blank page on
a laptop and on a phone, and not one request to another origin."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import LiveServer
from troth.analytics.demo import generate_demo_traffic
from troth.policy.guard import Actor
from troth.runtime import Runtime
from troth.security import users

pytestmark = pytest.mark.browser

EMAIL = "analyst@lumeninsights.example"
PASSWORD = "a long analyst passphrase 2026"
DEMO_DAYS = 14

COUNT_COLOURS = """async (data) => {
  const img = new Image();
  img.src = "data:image/png;base64," + data;
  await img.decode();
  const canvas = document.createElement("canvas");
  canvas.width = img.width;
  canvas.height = img.height;
  const context = canvas.getContext("2d");
  context.drawImage(img, 0, 0);
  const pixels = context.getImageData(0, 0, img.width, img.height).data;
  const seen = new Set();
  for (let i = 0; i < pixels.length; i += 4 * 5) {
    seen.add((pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2]);
  }
  return seen.size;
}"""
INKED_PIXELS = """() => {
  const canvas = document.querySelector("#chart canvas");
  const context = canvas.getContext("2d");
  const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
  let inked = 0;
  for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) inked++; }
  return inked;
}"""


@pytest.fixture
def demo_server(live_runtime: Runtime) -> Iterator[LiveServer]:
    assert generate_demo_traffic(live_runtime, days=DEMO_DAYS) > 5000
    with live_runtime.transaction() as session:
        users.create(
            session,
            live_runtime.declaration,
            Actor.system("tests"),
            email=EMAIL,
            role="analyst",
            password=PASSWORD,
            now=dt.datetime.now(dt.UTC),
        )
    with LiveServer(live_runtime) as server:
        yield server


@pytest.fixture
def pages(browser: Any) -> Iterator[list[Any]]:
    """Pages opened by a test, closed after it: an open dashboard keeps polling its server."""
    opened: list[Any] = []
    yield opened
    for page in opened:
        page.close()


def signed_in_page(
    browser: Any, server: LiveServer, width: int, requests: list[str], pages: list[Any]
) -> Any:
    page = browser.new_page(viewport={"width": width, "height": 900}, accept_downloads=True)
    pages.append(page)
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{server.url}/console/sign-in")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{server.url}/console/")
    return page


def open_dashboard(page: Any, server: LiveServer) -> None:
    page.goto(f"{server.url}/console/analytics?period=30d")
    page.wait_for_selector("#chart canvas")


def assert_not_blank(browser: Any, page: Any) -> None:
    shot = page.screenshot(full_page=True)
    assert len(shot) > 40_000
    checker = browser.new_page()
    colours = checker.evaluate(COUNT_COLOURS, base64.b64encode(shot).decode())
    checker.close()
    assert colours > 40


def assert_same_origin(server: LiveServer, requests: list[str]) -> None:
    elsewhere = [url for url in requests if not url.startswith(server.url)]
    assert elsewhere == []
    assert any("/static/vendor/uplot/" in url for url in requests)


def test_co5_dashboard_filters_exports_and_stays_on_its_origin(
    browser: Any, demo_server: LiveServer, pages: list[Any]
) -> None:
    requests: list[str] = []
    page = signed_in_page(browser, demo_server, 1280, requests, pages)
    open_dashboard(page, demo_server)
    assert page.evaluate(INKED_PIXELS) > 500
    before = page.text_content("[data-figure=visitors]")
    assert page.locator("table[data-dimension=country] tbody a").count() >= 5

    page.click("[data-tab=country]")
    country_link = page.locator("table[data-dimension=country] tbody a").nth(1)
    country = country_link.text_content()
    country_link.click()
    page.wait_for_url("**filter_country=*")
    page.wait_for_selector("#chart canvas")
    assert country
    assert country in page.text_content(".chips")
    assert page.text_content("[data-figure=visitors]") != before

    with page.expect_download() as table_download:
        page.click("[data-tab-panel=page] a.export")
    assert table_download.value.suggested_filename.endswith(".csv")
    table = table_download.value.path().read_text()
    assert (
        table.splitlines()[0] == "value,visitors,visits,pageviews,events,bounce_rate,visit_duration"
    )

    with page.expect_download() as whole_download:
        page.click("a.export-all")
    whole = whole_download.value.path().read_text().splitlines()
    assert whole[0].startswith("panel,value,visitors")
    assert len(whole) > 30

    page.click(".chip a")
    page.wait_for_selector("#chart canvas")
    assert page.text_content("[data-figure=visitors]") == before
    assert_not_blank(browser, page)
    assert_same_origin(demo_server, requests)


def test_co4_clicking_an_event_shows_its_properties(
    browser: Any, demo_server: LiveServer, pages: list[Any]
) -> None:
    requests: list[str] = []
    page = signed_in_page(browser, demo_server, 1280, requests, pages)
    open_dashboard(page, demo_server)
    page.click("table[data-dimension=event] tbody a >> text=feature_used")
    page.wait_for_selector("#properties")
    assert "feature" in page.text_content("#properties table")
    assert_same_origin(demo_server, requests)


def test_co5_dashboard_is_readable_on_a_phone(
    browser: Any, demo_server: LiveServer, pages: list[Any]
) -> None:
    requests: list[str] = []
    page = signed_in_page(browser, demo_server, 390, requests, pages)
    open_dashboard(page, demo_server)
    assert page.evaluate(INKED_PIXELS) > 300
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    chart_width = page.evaluate("document.querySelector('#chart canvas').clientWidth")
    assert 250 < chart_width <= 390
    assert_not_blank(browser, page)
    assert_same_origin(demo_server, requests)
