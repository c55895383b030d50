"""Page URL and referrer, reduced to host and path (CO3).

Queries are dropped (but for the declared campaign parameters on the page URL) and
fragments always, because that is where tokens, emails and search terms tend to hide.

A site's hits name the same few hundred pages and referrers over and over, while splitting
a URL costs a few microseconds. So the part before any query or fragment is split once and
kept in an LRU cache (at most CACHE_SIZE entries of up to MAX_CACHED_URL characters, so a
few megabytes at worst); the query, which click ids make different on every hit, is read
apart. A URL that could hold an email, a number or a secret is never cached: it is scrubbed
before storage, and unscrubbed text is not kept in memory beyond its own request.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote_plus, urlsplit

from troth.collect.config import CollectConfig
from troth.collect.scrub import might_hold_personal

MAX_PARAM = 200
CACHE_SIZE = 4096
MAX_CACHED_URL = 512
_UNSAFE = ("\t", "\r", "\n")
"""What urlsplit removes from anywhere in a URL."""


@dataclass(slots=True)  # not frozen: built on every hit (see event.RequestContext)
class Page:
    hostname: str
    """Lower-case, without a trailing dot or a leading "www."."""
    url_host: str
    """The host as the URL names it (lower-case), which the site check (SC1) compares."""
    path: str
    campaign: dict[str, str]
    """Declared campaign parameters present in the query, by utm_* field name."""


def normalize_host(host: str) -> str:
    host = host.lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


def _host_and_path(base: str) -> tuple[str, str, str]:
    """(host as written, normalized host, path) of a URL without query or fragment; empty
    parts for one that cannot be read."""
    try:
        parts = urlsplit(base)
        host = parts.hostname or ""
    except ValueError:
        return "", "", ""
    return host, normalize_host(host), parts.path or "/"


_host_and_path_cached = lru_cache(maxsize=CACHE_SIZE)(_host_and_path)


def _split(url: str) -> tuple[str, str, str, str]:
    """(host as written, normalized host, path, query), as urlsplit reads them."""
    url = url.strip()
    cut = len(url)
    for mark in "?#":  # a host never holds either: both end it
        found = url.find(mark, 0, cut)
        if found >= 0:
            cut = found
    base = url[:cut]
    cacheable = len(base) <= MAX_CACHED_URL and not might_hold_personal(base)
    split = _host_and_path_cached if cacheable else _host_and_path
    host, hostname, path = split(base)
    if not path:  # unreadable
        return "", "", "", ""
    query = ""
    if url[cut : cut + 1] == "?":
        query = url[cut + 1 :].partition("#")[0]
        for unsafe in _UNSAFE:
            if unsafe in query:
                query = query.replace(unsafe, "")
    return host, hostname, path, query


def page(url: str, config: CollectConfig) -> Page:
    host, hostname, path, query = _split(url)
    campaign: dict[str, str] = {}
    fields = config.campaign_fields
    if query and fields:
        for pair in query.split("&"):
            name, _, value = pair.partition("=")
            if value and name in fields and name not in campaign:
                value = value[: 3 * MAX_PARAM]
                if "%" in value or "+" in value:  # else unquoting changes nothing
                    value = unquote_plus(value)
                campaign[name] = value[:MAX_PARAM]
    return Page(hostname, host, path, campaign)


def referrer(url: str, page_host: str, config: CollectConfig) -> tuple[str, str]:
    """(host, path) of an external referrer; ("", "") for none or an internal one.

    Internal means the page's own host or any host of a declared site.
    """
    if not url:
        return "", ""
    _, host, path, _ = _split(url)
    if not host or host == page_host or config.site_of(host) is not None:
        return "", ""
    return host, path
