"""The tracker generated from the declaration: cookie name, lifetime, DNT and GPC."""

from __future__ import annotations

from tests.unit.consent.support import example, with_consent, with_cookies, without
from troth.collect.scripts import tracker
from troth.consent.cookies import VisitorCookies
from troth.policy.schema import Cookie, CookieCategory


def test_co5_tracker_uses_the_declared_analytics_cookie() -> None:
    settings = tracker.settings(example())
    assert settings == {
        "consent": "troth_consent",
        "vid": "troth_vid",
        "days": 395,
        "dnt": True,
        "gpc": True,
    }
    assert '"vid":"troth_vid"' in tracker.render(example())


def test_co5_the_analytics_cookie_never_lives_longer_than_13_months() -> None:
    long = Cookie(
        name="visitor",
        category=CookieCategory.analytics,
        purpose="understand_experience",
        lifetime_days=800,
        description="Recognises a returning browser.",
    )
    declaration = with_cookies(without(example(), CookieCategory.analytics), [long])
    cookies = VisitorCookies.of(declaration)
    assert (cookies.analytics_cookie, cookies.analytics_days) == ("visitor", 395)


def test_co6_without_a_declared_analytics_cookie_the_tracker_sets_none() -> None:
    declaration = without(example(), CookieCategory.analytics)
    assert tracker.settings(declaration)["vid"] == ""


def test_co6_honour_flags_come_from_the_declaration() -> None:
    declaration = with_consent(example(), honor_dnt=False, honor_gpc=True)
    assert tracker.settings(declaration)["dnt"] is False
    assert tracker.settings(declaration)["gpc"] is True


def test_co5_the_script_is_built_once_per_declaration() -> None:
    declaration = example()
    first = tracker.tracker_script(declaration)
    assert tracker.tracker_script(declaration) is first
    other = tracker.tracker_script(with_consent(declaration, honor_dnt=False))
    assert other.etag != first.etag
