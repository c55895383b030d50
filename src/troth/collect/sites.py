"""Which hosts the declaration covers (SC1): its sites and, where declared, their subdomains."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from troth.policy.schema import Site


@dataclass(frozen=True, slots=True)
class Sites:
    exact: frozenset[str]
    with_subdomains: tuple[str, ...]

    @classmethod
    def of(cls, sites: Iterable[Site]) -> Sites:
        listed = list(sites)
        return cls(
            exact=frozenset(site.domain for site in listed),
            with_subdomains=tuple(f".{site.domain}" for site in listed if site.include_subdomains),
        )

    def site_of(self, host: str) -> str | None:
        """The declared site a host belongs to, or None when the policy does not cover it."""
        host = host.lower().rstrip(".")
        if host in self.exact:
            return host
        for suffix in self.with_subdomains:
            if host.endswith(suffix):
                return suffix[1:]
        return None

    def covers_origin(self, origin: str) -> bool:
        """An Origin header (scheme://host[:port]) from a declared site or subdomain."""
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and self.site_of(parts.hostname or "") is not None
