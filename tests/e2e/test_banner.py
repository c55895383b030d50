"""The banner and the tracker on a customer's page, in a real Chromium.

The customer's page and the visit to it are in tests/e2e/customer_site.py.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.e2e.conftest import LiveServer
from tests.e2e.customer_site import GPC_ON, SITE, CustomerSite, Visit, consent_post
from troth.consent import routes
from troth.consent.models import ConsentRecord


def ledger(server: LiveServer) -> list[ConsentRecord]:
    with server.runtime.transaction() as session:
        return list(session.scalars(select(ConsentRecord).order_by(ConsentRecord.id)))


def test_co5_banner_appears_with_the_declared_categories(visit: Visit) -> None:
    visit.open()
    page = visit.page
    dialog = page.locator("[role=dialog]")
    assert dialog.get_attribute("aria-modal") == "true"
    title = page.locator("#" + (dialog.get_attribute("aria-labelledby") or "none"))
    assert title.inner_text() == "Cookies on this site"
    # styled by the script itself although the page allows no styles at all
    assert (
        page.locator("[data-troth-banner] .layer").evaluate("e => getComputedStyle(e).position")
        == "fixed"
    )
    page.get_by_role("button", name="Choose").click()
    necessary = page.get_by_label("Necessary (Always on)")
    assert necessary.is_checked()
    assert necessary.is_disabled()
    assert page.get_by_label("Analytics").is_checked()  # opt-out region: pre-checked
    assert not page.get_by_label("Marketing").is_checked()
    text = dialog.inner_text()
    for shown in ("troth_consent", "troth_vid", "troth_campaign", "395 days", "90 days"):
        assert shown in text
    assert "Understand your experience" in text
    assert page.get_by_role("button", name="Save my choices").is_visible()


def test_co6_keyboard_reaches_the_buttons_and_enter_rejects(
    visit: Visit, live_server: LiveServer
) -> None:
    visit.open()
    page = visit.page
    focused = "() => document.querySelector('[data-troth-banner]').shadowRoot.activeElement"
    assert page.evaluate(f"({focused})().getAttribute('role')") == "dialog"
    page.keyboard.press("Tab")
    assert page.evaluate(f"({focused})().textContent") == "Accept all"
    page.keyboard.press("Tab")
    assert page.evaluate(f"({focused})().textContent") == "Reject all"
    for _ in range(6):  # focus stays inside the dialog
        page.keyboard.press("Tab")
        assert page.evaluate(f"!!({focused})()")
    page.keyboard.press("Escape")  # no choice yet: the banner stays
    assert page.locator("[role=dialog]").is_visible()
    page.locator("[role=dialog]").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    with page.expect_response(consent_post):
        page.keyboard.press("Enter")
    assert not page.locator("[role=dialog]").is_visible()
    assert "troth_vid" not in visit.cookies()
    [record] = ledger(live_server)
    assert record.method == "banner_reject_all"


def test_co5_accept_all_sets_first_party_cookies_and_counts_with_the_id(
    visit: Visit, live_server: LiveServer
) -> None:
    visit.open()
    first = visit.wait_for_hits(1)[0]
    assert first["kind"] == "pageview"
    assert first["site"] == SITE
    assert "vid" not in first  # no choice yet: counted without a cookie
    visit.choose("Accept all")
    cookies = visit.cookies()
    assert "analytics=1" in cookies["troth_consent"]
    vid = cookies["troth_vid"]
    assert len(vid) == 32
    [record] = ledger(live_server)
    assert (record.method, record.visitor_key) == ("banner_accept_all", vid)
    assert (record.analytics, record.marketing) == (True, True)
    visit.navigate("/pricing")
    visit.navigate("/pricing")  # the same URL again is not a second page view
    visit.page.evaluate("troth('event', 'feature_used', {feature: 'export'})")
    hits = visit.wait_for_hits(3)
    visit.page.wait_for_timeout(300)
    second = hits[1]
    assert second["kind"] == "pageview"
    assert second["url"].endswith("/pricing")
    assert (second["vid"], second["consent"]) == (vid, True)
    assert hits[2]["kind"] == "event"
    assert (hits[2]["name"], hits[2]["props"]) == ("feature_used", {"feature": "export"})
    assert len(visit.hits) == 3


def test_co6_reject_all_sets_no_troth_cookie_but_visits_still_count(
    visit: Visit, live_server: LiveServer
) -> None:
    visit.open()
    visit.choose("Reject all")
    assert not [name for name in visit.cookies() if name.startswith("troth")]
    remembered = visit.page.evaluate("localStorage.getItem('troth_consent')")
    assert "analytics=0" in remembered  # kept on the device, but not as a cookie
    [record] = ledger(live_server)
    assert record.method == "banner_reject_all"
    assert not record.analytics
    visit.navigate("/docs")
    hits = visit.wait_for_hits(2)
    assert [hit["kind"] for hit in hits] == ["pageview", "pageview"]
    assert all("vid" not in hit and hit["consent"] is False for hit in hits)
    visit.page.reload()
    visit.page.wait_for_timeout(500)
    assert not visit.page.locator("[role=dialog]").is_visible()  # the choice is remembered


def test_co6_the_consent_link_reopens_the_banner_to_withdraw(
    visit: Visit, live_server: LiveServer
) -> None:
    visit.open()
    visit.choose("Accept all")
    vid = visit.cookies()["troth_vid"]
    page = visit.page
    page.get_by_role("link", name="Cookie settings").click()
    dialog = page.locator("[role=dialog]")
    assert dialog.is_visible()
    page.keyboard.press("Escape")  # a choice exists: Escape closes
    assert not dialog.is_visible()
    page.get_by_role("link", name="Cookie settings").click()
    visit.choose("Reject all")
    assert "troth_vid" not in visit.cookies()
    accepted, withdrawn = ledger(live_server)
    assert (withdrawn.method, withdrawn.visitor_key) == ("withdrawn", vid)
    assert accepted.visitor_key == vid


def test_co6_gpc_means_no_visitor_cookie_even_after_accept_all(
    mapped: Any, customer: CustomerSite, live_server: LiveServer
) -> None:
    visit = Visit(mapped, customer, init=GPC_ON)
    try:
        visit.open()
        visit.choose("Accept all")
        assert "troth_vid" not in visit.cookies()
        [record] = ledger(live_server)
        assert (record.method, record.analytics) == ("gpc", False)
        visit.navigate("/after")
        hits = visit.wait_for_hits(2)
        assert all("vid" not in hit for hit in hits)
    finally:
        visit.close()


def test_co6_in_an_opt_in_region_nothing_is_counted_before_a_choice(
    visit: Visit, live_server: LiveServer
) -> None:
    app = live_server.server.config.app
    app.dependency_overrides[routes.get_country_lookup] = lambda: lambda _ip: "DE"
    visit.open()
    visit.page.get_by_role("button", name="Choose").click()
    assert not visit.page.get_by_label("Analytics").is_checked()
    visit.page.wait_for_timeout(500)
    assert visit.hits == []
    visit.choose("Accept all")
    [held] = visit.wait_for_hits(1)
    assert held["kind"] == "pageview"
    assert held["vid"] == visit.cookies()["troth_vid"]


def test_co5_outbound_links_and_downloads_are_counted(visit: Visit) -> None:
    visit.open()
    visit.choose("Reject all")
    visit.wait_for_hits(1)
    page = visit.page
    page.evaluate("document.addEventListener('click', e => e.preventDefault())")
    page.click("#out")
    page.click("#file")
    hits = visit.wait_for_hits(3)
    assert hits[1]["kind"] == "outbound"
    assert hits[1]["props"] == {"url": "https://elsewhere.example/read"}
    assert hits[2]["kind"] == "download"
    assert hits[2]["props"]["url"].endswith("/files/report.pdf")
