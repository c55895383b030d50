"""From a click on the banner to a row in the events table, in a real Chromium.

The visit comes from a declared site's own origin; the collector's requests carry a proxy's
X-Forwarded-For (added by the test, as a reverse proxy would) so the country is known.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from tests.e2e.conftest import LiveServer
from tests.e2e.customer_site import GPC_ON, CustomerSite, Visit
from troth.collect.ingest import Ingester
from troth.collect.journal import seal_all
from troth.collect.models import StoredEvent

UK_ADDRESS = "81.2.69.142"
SEARCH = "https://www.google.com/"


def from_the_uk(visit: Visit) -> None:
    def forward(route: Any) -> None:
        route.continue_(headers={**route.request.headers, "x-forwarded-for": UK_ADDRESS})

    visit.page.route("**/api/**", forward)


def stored(server: LiveServer, count: int, visit: Visit) -> list[StoredEvent]:
    for _ in range(50):
        seal_all()
        Ingester.for_runtime(server.runtime).run_once()
        with server.runtime.transaction() as session:
            rows = list(session.scalars(select(StoredEvent).order_by(StoredEvent.id)))
        if len(rows) >= count:
            return rows
        visit.page.wait_for_timeout(100)
    return rows


def test_co3_accept_stores_page_views_and_events_enriched(
    visit: Visit, live_server: LiveServer
) -> None:
    from_the_uk(visit)
    visit.page.goto(visit.customer.url + "/pricing?utm_source=newsletter", referer=SEARCH)
    visit.page.wait_for_selector("[role=dialog]")
    visit.choose("Accept all")
    vid = visit.cookies()["troth_vid"]
    visit.page.evaluate("troth('event', 'feature_used', {feature: 'export'})")
    visit.navigate("/docs")
    rows = stored(live_server, 3, visit)
    assert [(r.kind, r.path, r.name) for r in rows] == [
        ("pageview", "/pricing", ""),
        ("event", "/pricing", "feature_used"),
        ("pageview", "/docs", ""),
    ]
    first = rows[0]
    assert (first.browser, first.os, first.device) == ("Chrome", "Linux", "desktop")
    assert (first.language, first.country) == ("de", "GB")
    assert first.referrer_host == "google.com"
    assert first.utm_source == "newsletter"
    assert abs(first.ts.replace(tzinfo=dt.UTC) - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=2)
    assert [(r.visitor_key, r.cookieless) for r in rows] == [(vid, False)] * 3
    assert rows[1].props == {"feature": "export"}


def test_co6_reject_leaves_no_troth_cookie_and_stores_a_cookieless_view(
    visit: Visit, live_server: LiveServer
) -> None:
    visit.open()
    visit.choose("Reject all")
    visit.navigate("/after-reject")
    rows = stored(live_server, 2, visit)
    assert not [name for name in visit.cookies() if name.startswith("troth")]
    assert rows
    assert all(r.cookieless for r in rows)
    assert rows[-1].path == "/after-reject"
    visit.page.reload()  # the refusal is remembered without a cookie: no banner again
    visit.page.wait_for_timeout(300)
    assert not visit.page.locator("[role=dialog]").is_visible()


def test_co6_gpc_stores_cookieless_even_after_accept(
    mapped: Any, customer: CustomerSite, live_server: LiveServer
) -> None:
    visit = Visit(mapped, customer, init=GPC_ON)
    try:
        visit.open()
        visit.choose("Accept all")
        visit.navigate("/with-gpc")
        rows = stored(live_server, 1, visit)
        assert rows
        assert all(r.cookieless for r in rows)
        assert "troth_vid" not in visit.cookies()
    finally:
        visit.close()


def test_co5_noscript_pixel_is_counted(visit: Visit, live_server: LiveServer) -> None:
    site = "lumeninsights.example"
    pixel = f"{live_server.url}/p.gif?site={site}&url=https://{site}/no-script"
    visit.page.set_content(f'<img src="{pixel}" alt="">')
    visit.page.wait_for_timeout(200)
    rows = stored(live_server, 1, visit)
    assert [(r.kind, r.path, r.cookieless) for r in rows] == [("pageview", "/no-script", True)]
