from __future__ import annotations

import pytest

from troth.collect.config import MAX_COOKIE_DAYS, compile_config, cookie_mode
from troth.policy.schema import Consent, Cookie, CookieCategory, IpHandling

from .support import config


def test_compiled_view_of_the_example() -> None:
    cfg = config()
    assert cfg.sites.exact == {"lumeninsights.example"}
    assert cfg.sites.with_subdomains == (".lumeninsights.example",)
    assert cfg.ip is IpHandling.truncate
    assert "utm_content" in cfg.campaign_parameters
    assert (cfg.analytics_cookie, cfg.cookie_lifetime_days) == ("troth_vid", 395)
    assert cfg.honor_gpc
    assert cfg.honor_dnt
    assert cfg.phone_region == "US"


def test_cookie_lifetime_is_capped_at_thirteen_months() -> None:
    long_cookie = Cookie(
        name="vid", category=CookieCategory.analytics, purpose="understand_experience",
        lifetime_days=900, description="Counts returning visits.",
    )  # fmt: skip
    assert config(cookies=[long_cookie]).cookie_lifetime_days == MAX_COOKIE_DAYS


@pytest.mark.parametrize(
    ("host", "site"),
    [
        ("lumeninsights.example", "lumeninsights.example"),
        ("APP.lumeninsights.example.", "lumeninsights.example"),
        ("evil-lumeninsights.example", None),
        ("lumeninsights.example.evil.example", None),
    ],
)
def test_site_of_host(host: str, site: str | None) -> None:
    assert config().site_of(host) == site


@pytest.mark.parametrize("country", ["DE", "US", ""])
def test_co6_consent_flag_decides_the_mode(country: str) -> None:
    cfg = config()
    assert cookie_mode(cfg, consent=True, gpc=False, dnt=False, country=country)
    assert not cookie_mode(cfg, consent=False, gpc=False, dnt=False, country=country)


def test_co6_gpc_and_dnt_make_the_visitor_cookieless_when_honoured() -> None:
    cfg = config()
    assert not cookie_mode(cfg, consent=True, gpc=True, dnt=False, country="US")
    assert not cookie_mode(cfg, consent=True, gpc=False, dnt=True, country="US")


def test_co6_gpc_and_dnt_are_ignored_when_not_honoured() -> None:
    cfg = config(consent=Consent(honor_gpc=False, honor_dnt=False))
    assert cookie_mode(cfg, consent=True, gpc=True, dnt=True, country="US")


def test_co6_no_declared_analytics_cookie_means_always_cookieless() -> None:
    cfg = config(cookies=[])
    assert cfg.analytics_cookie == ""
    assert not cookie_mode(cfg, consent=True, gpc=False, dnt=False, country="US")


def test_compile_config_is_immutable() -> None:
    from dataclasses import FrozenInstanceError

    from .support import DECLARATION

    cfg = compile_config(DECLARATION)
    with pytest.raises(FrozenInstanceError):
        cfg.honor_gpc = False  # type: ignore[misc]
