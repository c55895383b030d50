"""Page URL and referrer, reduced to host and path (CO3).

Queries are dropped (but for the declared campaign parameters on the page URL) and
fragments always, because that is where tokens, emails and search terms tend to hide.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote_plus, urlsplit

from troth.collect.config import CollectConfig

MAX_PARAM = 200


@dataclass(frozen=True, slots=True)
class Page:
    hostname: str
    path: str
    campaign: dict[str, str]
    """Declared campaign parameters present in the query, by utm_* field name."""


def normalize_host(host: str) -> str:
    host = host.lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


def _split(url: str) -> tuple[str, str, str]:
    """(host, path, query); a URL that cannot be read gives empty parts."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
    except ValueError:
        return "", "", ""
    return normalize_host(host), parts.path or "/", parts.query


def page(url: str, config: CollectConfig) -> Page:
    host, path, query = _split(url)
    campaign: dict[str, str] = {}
    if query and config.campaign_fields:
        for pair in query.split("&"):
            name, _, value = pair.partition("=")
            if value and name in config.campaign_fields and name not in campaign:
                campaign[name] = unquote_plus(value[: 3 * MAX_PARAM])[:MAX_PARAM]
    return Page(hostname=host, path=path, campaign=campaign)


def referrer(url: str, page_host: str, config: CollectConfig) -> tuple[str, str]:
    """(host, path) of an external referrer; ("", "") for none or an internal one.

    Internal means the page's own host or any host of a declared site.
    """
    if not url:
        return "", ""
    host, path, _ = _split(url)
    if not host or host == page_host or config.site_of(host) is not None:
        return "", ""
    return host, path
