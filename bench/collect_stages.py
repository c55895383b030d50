"""What each stage of the collector's request path costs, beside a bare json.loads.

Run: .venv/bin/python bench/collect_stages.py
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import tempfile
import timeit
from collections.abc import Callable
from pathlib import Path

from troth.collect.config import compile_config, cookie_mode
from troth.collect.enrich import enrich
from troth.collect.event import Event, Hit, Kind, RequestContext
from troth.collect.geo import country_of
from troth.collect.ip import handle_ip
from troth.collect.language import preferred_language
from troth.collect.referrer import page, referrer
from troth.collect.scrub import scrub_event, scrub_text
from troth.collect.useragent import clear_cache, parse_agent, parse_agent_uncached, warm_up
from troth.collect.visitor import FileSalts, salt_day, visitor_key
from troth.policy.loader import load_policy
from troth.policy.schema import IpHandling

EXAMPLE = Path(__file__).parents[1] / "src" / "troth" / "policy" / "example.yaml"
ROUNDS, CALLS = 15, 2_000

BODY = json.dumps(
    {
        "site": "lumeninsights.example",
        "kind": "pageview",
        "url": "https://www.lumeninsights.example/pricing/plans?utm_source=newsletter"
        "&utm_medium=email&utm_campaign=spring-launch&fbclid=abc",
        "referrer": "https://news.example/2026/05/best-analytics-tools?ref=home",
        "title": "Pricing and plans - Lumen Insights",
        "props": {"plan": "team", "seats": 12, "billing": "annual"},
        "visitor_id": "",
        "analytics_consent": False,
        "screen_width": 1440,
    }
)
UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"
)
CTX = RequestContext(
    client_ip="81.2.69.142",
    user_agent=UA,
    accept_language="de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7",
    gpc=False,
    dnt=False,
    now=dt.datetime.now(dt.UTC),
)
KEY = os.urandom(32)


def make_hit() -> Hit:
    data = json.loads(BODY)
    return Hit(
        site=data["site"],
        kind=Kind(data["kind"]),
        url=data["url"],
        referrer=data["referrer"],
        title=data["title"],
        props=data["props"],
        screen_width=data["screen_width"],
    )


def median_us(fn: Callable[[], object]) -> float:
    runs = timeit.repeat(fn, number=CALLS, repeat=ROUNDS)
    return statistics.median(runs) / CALLS * 1e6


def main() -> None:
    config = compile_config(load_policy(EXAMPLE).declaration)
    salts = FileSalts(Path(tempfile.mkdtemp()))
    warm_up()
    hit = make_hit()

    def all_stages(uncached_ua: bool = False) -> Event:
        if uncached_ua:
            clear_cache()
        h = make_hit()
        e = enrich(h, CTX, config)
        consented = cookie_mode(
            config, consent=h.analytics_consent, gpc=CTX.gpc, dnt=CTX.dnt, country=e.country
        )
        vk = visitor_key(
            cookie_mode=consented, visitor_id=h.visitor_id, site=h.site, ip=CTX.client_ip,
            user_agent=CTX.user_agent, day=salt_day(e.ts), salts=salts,
        )  # fmt: skip
        event = Event(
            site=h.site, ts=e.ts, kind=h.kind, path=e.page.path, visitor_key=vk.key,
            cookieless=vk.cookieless, title=h.title, hostname=e.page.hostname,
            referrer_host=e.referrer_host, referrer_path=e.referrer_path,
            country=e.country, language=e.language, browser=e.agent.browser,
            browser_version=e.agent.browser_version, os=e.agent.os,
            os_version=e.agent.os_version, device=e.device, props=h.props,
            ip=handle_ip(CTX.client_ip, config.ip), **e.page.campaign,
        )  # fmt: skip
        scrub_event(event, e.country or config.phone_region)
        return event

    event = all_stages()
    cases: dict[str, Callable[[], object]] = {
        "baseline: json.loads of the body": lambda: json.loads(BODY),
        "user agent, cached": lambda: parse_agent(UA),
        "user agent, uncached": lambda: parse_agent_uncached(UA),
        "language (cached)": lambda: preferred_language(CTX.accept_language),
        "country (iptocc)": lambda: country_of(CTX.client_ip),
        "page URL + campaign": lambda: page(hit.url, config),
        "referrer": lambda: referrer(hit.referrer, "lumeninsights.example", config),
        "consent decision": lambda: cookie_mode(
            config, consent=False, gpc=False, dnt=False, country="GB"
        ),
        "scrub event (clean text)": lambda: scrub_event(event, "GB"),
        "scrub: title with email + phone": lambda: scrub_text(
            "Thanks jane.doe@example.org, we will call +44 20 7946 0958", "GB"
        ),
        "scrub: path with a 10-digit id (cached)": lambda: scrub_text("/orders/2026051234", "GB"),
        "ip truncate": lambda: handle_ip(CTX.client_ip, IpHandling.truncate),
        "ip encrypt (AES-GCM)": lambda: handle_ip(CTX.client_ip, IpHandling.encrypt, KEY),
        "visitor key, cookieless": lambda: visitor_key(
            cookie_mode=False,
            visitor_id="",
            site="lumeninsights.example",
            ip=CTX.client_ip,
            user_agent=UA,
            day=CTX.now.date(),
            salts=salts,
        ),
        "all stages + json.loads, UA cached": all_stages,
        "all stages + json.loads, UA uncached": lambda: all_stages(uncached_ua=True),
    }
    base = median_us(cases["baseline: json.loads of the body"])
    print(f"{'stage':<40} {'median µs':>10} {'× baseline':>11}")
    for name, fn in cases.items():
        us = median_us(fn)
        print(f"{name:<40} {us:>10.2f} {us / base:>11.1f}")


if __name__ == "__main__":
    main()
