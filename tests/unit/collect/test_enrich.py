from __future__ import annotations

import datetime as dt

import pytest

from troth.collect import referrer as referrers
from troth.collect.enrich import access_time, enrich
from troth.collect.event import Hit, Kind, RequestContext
from troth.collect.geo import country_of
from troth.collect.language import preferred_language
from troth.collect.referrer import page, referrer
from troth.policy.schema import Collection, Site

from .support import CHROME_MAC, config


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("de-DE,de;q=0.9,en;q=0.8", "de"),
        ("en-US", "en"),
        ("fr;q=0.5, PT-br;q=0.9", "pt"),
        ("*;q=1, es;q=0.4", "es"),
        ("en;q=0, it", "it"),
        ("en;q=abc, nl;q=0.3", "nl"),
        ("zh-Hant-TW", "zh"),
        ("", ""),
        ("*", ""),
        ("1234, ;;;", ""),
    ],
)
def test_co3_language_is_the_highest_weighted_primary_tag(header: str, expected: str) -> None:
    assert preferred_language(header) == expected


def test_co3_language_ties_keep_header_order() -> None:
    assert preferred_language("sv, da, nb") == "sv"


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("81.2.69.142", "GB"),
        ("8.8.8.8", "US"),
        ("2a00:1450:4001:80b::200e", "IE"),
        ("127.0.0.1", ""),
        ("10.1.2.3", ""),
        ("192.168.0.10", ""),
        ("::1", ""),
        ("not an ip", ""),
        ("", ""),
    ],
)
def test_co3_country_from_the_bundled_database(ip: str, expected: str) -> None:
    assert country_of(ip) == expected


def test_co3_page_keeps_host_path_and_declared_campaign_parameters() -> None:
    where = page(
        "https://WWW.LumenInsights.example/pricing/plans?utm_source=news&utm_medium=email"
        "&utm_campaign=spring&gclid=abc&email=a%40b.example#section",
        config(),
    )
    assert where.hostname == "lumeninsights.example"
    assert where.url_host == "www.lumeninsights.example"  # what the site check compares
    assert where.path == "/pricing/plans"
    assert where.campaign == {"utm_source": "news", "utm_medium": "email", "utm_campaign": "spring"}


@pytest.mark.parametrize(
    ("url", "host", "path", "campaign"),
    [
        ("https://x.example/a#b?utm_source=no", "x.example", "/a", {}),
        ("https://x.example/a?utm_source=yes#b?c", "x.example", "/a", {"utm_source": "yes"}),
        ("https://x.example?utm_source=bare", "x.example", "/", {"utm_source": "bare"}),
        ("https://x.example/?utm_term=spring+sale", "x.example", "/", {"utm_term": "spring sale"}),
        ("https://x.example/?utm_term=caf%C3%A9", "x.example", "/", {"utm_term": "café"}),
        ("https://x.example/a?utm_source=t\tab", "x.example", "/a", {"utm_source": "tab"}),
        ("https://[x.example/a?utm_source=x", "", "", {}),
    ],
)
def test_co3_page_reads_a_url_as_urlsplit_does(
    url: str, host: str, path: str, campaign: dict[str, str]
) -> None:
    for _ in range(2):  # the second time from the cache
        where = page(url, config())
        assert (where.hostname, where.path, where.campaign) == (host, path, campaign)


def test_a_url_that_could_hold_personal_values_is_not_kept_in_the_split_cache() -> None:
    cached = referrers._host_and_path_cached
    cached.cache_clear()
    page("https://shop.example/orders/ada@example.com?x=1", config())
    page("https://shop.example/cards/4111111111111111", config())
    page("https://shop.example/reset/key=abc", config())
    assert cached.cache_info().currsize == 0
    assert page("https://shop.example/pricing?utm_source=x", config()).path == "/pricing"
    assert cached.cache_info().currsize == 1


def test_co3_undeclared_campaign_parameter_is_dropped() -> None:
    cfg = config(collection=Collection(campaign_parameters=["utm_source"]))
    where = page("https://lumeninsights.example/?utm_source=a&utm_medium=b", cfg)
    assert where.campaign == {"utm_source": "a"}
    assert where.path == "/"


def test_co3_external_referrer_keeps_host_and_path_only() -> None:
    host, path = referrer(
        "https://www.Search.example/results?q=my+name&token=x#frag",
        "lumeninsights.example",
        config(),
    )
    assert (host, path) == ("search.example", "/results")


@pytest.mark.parametrize(
    "url",
    [
        "https://lumeninsights.example/docs",
        "https://www.lumeninsights.example/",
        "https://app.lumeninsights.example/dashboard?x=1",
        "",
        "not a url",
    ],
)
def test_co3_internal_or_missing_referrer_is_empty(url: str) -> None:
    assert referrer(url, "lumeninsights.example", config()) == ("", "")


def test_subdomain_referrer_is_external_when_subdomains_are_not_declared() -> None:
    cfg = config(sites=[Site(domain="lumeninsights.example", include_subdomains=False)])
    assert referrer("https://blog.lumeninsights.example/a", "lumeninsights.example", cfg) == (
        "blog.lumeninsights.example",
        "/a",
    )


def test_co3_access_time_is_the_server_clock_in_utc() -> None:
    local = dt.datetime(2026, 3, 1, 1, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert access_time(local) == dt.datetime(2026, 2, 28, 23, 30, tzinfo=dt.UTC)
    assert access_time(dt.datetime(2026, 3, 1, 12, 0)).tzinfo is dt.UTC


def test_co3_enrich_fills_os_browser_language_country_referrer_and_time() -> None:
    now = dt.datetime(2026, 5, 4, 10, 0, tzinfo=dt.UTC)
    hit = Hit(
        site="lumeninsights.example",
        kind=Kind.pageview,
        url="https://lumeninsights.example/features?utm_source=ad",
        referrer="https://news.example/story/42?ref=home",
        screen_width=1440,
    )
    ctx = RequestContext("81.2.69.142", CHROME_MAC, "en-GB,en;q=0.9", False, False, now)
    got = enrich(hit, ctx, config())
    assert (got.agent.browser, got.agent.os, got.device) == ("Chrome", "Mac OS X", "desktop")
    assert (got.language, got.country, got.ts) == ("en", "GB", now)
    assert (got.referrer_host, got.referrer_path) == ("news.example", "/story/42")
    assert (got.page.path, got.page.campaign) == ("/features", {"utm_source": "ad"})
