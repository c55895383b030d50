"""A customer's page on the declared site, served from its own origin, and a visit to it.

The page is served by a small HTTP server under the declared host name (mapped to loopback by
Chromium's resolver rules) with a strict Content-Security-Policy, and loads the banner and the
tracker from the live Troth: the situation of a real site.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.e2e.conftest import CHROMIUM, CHROMIUM_FLAGS, LiveServer

SITE = "lumeninsights.example"
GPC_ON = "Object.defineProperty(navigator,'globalPrivacyControl',{get:()=>true})"
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Lumen home</title>
<script defer src="{troth}/consent.js" data-site="{site}"></script>
<script defer src="{troth}/t.js" data-site="{site}"></script>
</head><body><h1>Lumen</h1>
<p><a href="#" data-troth-consent>Cookie settings</a></p>
<p><a id="out" href="https://elsewhere.example/read?x=1">Elsewhere</a>
<a id="file" href="/files/report.pdf">Report</a></p>
</body></html>"""


class CustomerSite:
    """A page on the declared site, served from its own origin under a strict CSP."""

    def __init__(self, troth: str) -> None:
        page = PAGE.format(troth=troth, site=SITE).encode()
        csp = (
            f"default-src 'none'; script-src {troth}; connect-src {troth}; "
            "style-src 'none'; img-src 'none'"
        )

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Security-Policy", csp)
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *_: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://{SITE}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def customer(live_server: LiveServer) -> Iterator[CustomerSite]:
    site = CustomerSite(live_server.url)
    yield site
    site.close()


@pytest.fixture
def mapped(browser: Any) -> Iterator[Any]:
    """Chromium resolving the declared host to loopback (same Playwright as the fixture)."""
    rules = f"--host-resolver-rules=MAP {SITE} 127.0.0.1"
    launched = browser.browser_type.launch(
        executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_FLAGS, rules]
    )
    yield launched
    launched.close()


CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
"""Headless Chromium says "HeadlessChrome", which the collector drops as automated traffic."""


class Visit:
    def __init__(self, mapped: Any, customer: CustomerSite, init: str | None = None) -> None:
        self.context = mapped.new_context(user_agent=CHROME, locale="de-DE")
        if init:
            self.context.add_init_script(init)
        self.page = self.context.new_page()
        self.customer = customer
        self.hits: list[dict[str, Any]] = []
        self.page.on("request", self._seen)

    def _seen(self, request: Any) -> None:
        if request.method == "POST" and request.url.endswith("/api/collect"):
            self.hits.append(json.loads(request.post_data))

    def open(self) -> None:
        self.page.goto(self.customer.url + "/")
        self.page.wait_for_selector("[role=dialog]")

    def cookies(self) -> dict[str, str]:
        found = self.context.cookies(self.customer.url)
        return {cookie["name"]: cookie["value"] for cookie in found}

    def wait_for_hits(self, count: int) -> list[dict[str, Any]]:
        for _ in range(50):
            if len(self.hits) >= count:
                break
            self.page.wait_for_timeout(100)
        return self.hits

    def choose(self, button: str) -> None:
        with self.page.expect_response(consent_post):
            self.page.get_by_role("button", name=button).click()

    def navigate(self, path: str) -> None:
        self.page.evaluate("p => history.pushState({}, '', p)", path)

    def close(self) -> None:
        self.context.close()


def consent_post(response: Any) -> bool:
    return bool(response.url.endswith("/api/consent") and response.request.method == "POST")


@pytest.fixture
def visit(mapped: Any, customer: CustomerSite) -> Iterator[Visit]:
    opened = Visit(mapped, customer)
    yield opened
    opened.close()


