"""Browser, OS and device class from the User-Agent header (CO3).

Parsing uses ua-parser with the best resolver installed (the compiled Rust one from
`ua-parser[regex]`); an uncached parse costs tens to hundreds of microseconds, so
results are kept in an LRU cache keyed by the exact header.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ua_parser import BestAvailableResolver, Domain, Resolver, load_lazy_builtins

from troth.collect.bots import SPIDER_DEVICE, looks_automated

DESKTOP, MOBILE, TABLET, BOT = "desktop", "mobile", "tablet", "bot"

MOBILE_OS = frozenset(
    {"iOS", "Android", "Windows Phone", "BlackBerry OS", "KaiOS", "Firefox OS", "Symbian OS",
     "Tizen", "Sailfish", "HarmonyOS", "webOS", "Bada"}
)  # fmt: skip
TABLET_HINTS = ("ipad", "tablet", "kindle", "silk", "playbook", "nexus 7", "nexus 9", "sm-t")

CACHE_SIZE = 4096
MAX_UA_LENGTH = 512
"""Longer headers are cut before parsing: real browsers stay well below this."""


@dataclass(frozen=True, slots=True)
class Agent:
    browser: str
    browser_version: str
    os: str
    os_version: str
    device: str
    """desktop, mobile, tablet or bot."""

    @property
    def is_bot(self) -> bool:
        return self.device == BOT


_resolver: Resolver | None = None


def _get_resolver() -> Resolver:
    global _resolver
    if _resolver is None:
        _resolver = BestAvailableResolver(load_lazy_builtins())
    return _resolver


def warm_up() -> None:
    """Load the rules now (~0.2 s) instead of on the first request."""
    parse_agent("Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0")


def parse_agent(user_agent: str) -> Agent:
    """The parsed user agent, cached: callers share one Agent per distinct header.

    The header is cut before it becomes a cache key, so odd clients cannot make the
    cache hold megabytes.
    """
    return _cached(user_agent[:MAX_UA_LENGTH])


def parse_agent_uncached(user_agent: str) -> Agent:
    result = _get_resolver()(user_agent, Domain.ALL)
    ua, os_, dev = result.user_agent, result.os, result.device
    browser = ua.family if ua and ua.family != "Other" else ""
    os_family = os_.family if os_ and os_.family != "Other" else ""
    device_family = dev.family if dev else ""
    return Agent(
        browser=browser,
        browser_version=(ua.major or "") if browser and ua else "",
        os=os_family,
        os_version=(os_.major or "") if os_family and os_ else "",
        device=_device_class(user_agent, os_family, device_family, dev.brand if dev else None),
    )


_cached = lru_cache(maxsize=CACHE_SIZE)(parse_agent_uncached)


def clear_cache() -> None:
    _cached.cache_clear()


def _device_class(user_agent: str, os_family: str, family: str, brand: str | None) -> str:
    if family == SPIDER_DEVICE or looks_automated(user_agent):
        return BOT
    lowered = family.lower()
    if (brand or "").endswith("_Tablet") or any(h in lowered for h in TABLET_HINTS):
        return TABLET
    if os_family == "Android" and "Mobile" not in user_agent:
        return TABLET  # Android phones say "Mobile"; Android tablets do not
    if os_family in MOBILE_OS or "Mobi" in user_agent:
        return MOBILE
    return DESKTOP


def device_for_screen(device: str, screen_width: int) -> str:
    """Refine a desktop guess with the tracker's screen width (CSS pixels).

    iPads since iPadOS 13 send a Mac user agent; no desktop screen is narrower than
    1024 pixels, so a narrow "desktop" is a tablet, or a phone below 600.
    """
    if device != DESKTOP or not 0 < screen_width < 1024:
        return device
    return MOBILE if screen_width < 600 else TABLET
