"""Telling crawlers, headless browsers and scripts from people, so their hits are dropped.

The endpoint still answers such a hit with 202; it simply stores nothing.
"""

from __future__ import annotations

import re

BOT_MARKERS = re.compile(
    r"(?<!cu)bot\b|crawl|spider|slurp|scrap|archiver|headless|phantomjs|electron/|"
    r"selenium|webdriver|puppeteer|playwright|cypress|lighthouse|pagespeed|"
    r"curl/|wget/|httpie|python-requests|python-urllib|python-httpx|aiohttp|urllib3|"
    r"go-http-client|java/|okhttp|apache-httpclient|libwww|lwp::|node-fetch|axios/|"
    r"undici|got \(|guzzle|ruby|perl|php/|postman|insomnia|"
    r"facebookexternalhit|embedly|preview|monitor|pingdom|uptime|statuscake|"
    r"feedfetcher|feedparser|mediapartners-google|yandex/|^mozilla/[45]\.0$",
    re.IGNORECASE,
)
"""Words that appear in the user agent of automated clients ("cubot" is a phone brand)."""

SPIDER_DEVICE = "Spider"
"""The device family ua-parser gives every crawler it recognises."""


def looks_automated(user_agent: str) -> bool:
    """True for an empty user agent or one naming a known bot, crawler or automation tool."""
    return not user_agent.strip() or BOT_MARKERS.search(user_agent) is not None
