"""The banner generated from the declaration's cookie list."""

from __future__ import annotations

import gzip
import json
import re

from tests.unit.consent.support import example, with_consent, with_cookies, without
from troth.consent import banner
from troth.policy.schema import Cookie, CookieCategory


def _settings(script: str) -> dict[str, object]:
    """The settings object the generator placed in the minified script."""
    found = re.search(r'=(\{"categories":.*?"vid":"[^"]*"\})', script)
    assert found is not None
    parsed: dict[str, object] = json.loads(found.group(1))
    return parsed


def test_co5_categories_list_the_declared_cookies_with_purpose_and_lifetime() -> None:
    listed = banner.categories(example())
    assert [c["id"] for c in listed] == ["necessary", "analytics", "marketing"]
    analytics = listed[1]["cookies"]
    assert analytics == [
        {
            "name": "troth_vid",
            "purpose": "Understand your experience",
            "days": 395,
            "about": "Recognises your browser when you come back, so we can count visits.",
        }
    ]


def test_co5_a_category_without_cookies_is_not_offered_but_necessary_always_is() -> None:
    declaration = without(example(), CookieCategory.marketing)
    declaration = without(declaration, CookieCategory.necessary)
    assert [c["id"] for c in banner.categories(declaration)] == ["necessary", "analytics"]


def test_co5_the_banner_version_follows_what_the_visitor_reads() -> None:
    declaration = example()
    same = banner.banner_version(example())
    assert banner.banner_version(declaration) == same
    assert re.fullmatch(r"[0-9a-f]{16}", same)
    extra = Cookie(
        name="troth_ab",
        category=CookieCategory.analytics,
        purpose="improve_services",
        lifetime_days=30,
        description="Keeps you in one variant of a test.",
    )
    changed = with_cookies(declaration, [*declaration.cookies, extra])
    assert banner.banner_version(changed) != same
    # a change that the banner does not show leaves its version alone
    assert banner.banner_version(with_consent(declaration, honor_dnt=False)) == same


def test_co5_the_script_carries_the_settings_and_the_english_words() -> None:
    script = banner.render(example())
    settings = _settings(script)
    assert settings["vid"] == "troth_vid"
    assert settings["consent"] == "troth_consent"
    assert settings["consentDays"] == 365
    assert settings["version"] == banner.banner_version(example())
    texts = settings["texts"]
    assert isinstance(texts, dict)
    assert set(texts) == {"en"}
    assert texts["en"]["accept"] == "Accept all"
    assert "Lumen" in texts["en"]["intro"]


def test_co5_an_undeclared_language_falls_back_to_english() -> None:
    script = banner.render(with_consent(example(), banner_languages=["de", "en"]))
    texts = _settings(script)["texts"]
    assert isinstance(texts, dict)
    assert set(texts) == {"en"}


def test_co5_banner_is_at_most_six_kilobytes_gzipped() -> None:
    assert len(gzip.compress(banner.render(example()).encode(), 9)) <= 6 * 1024
