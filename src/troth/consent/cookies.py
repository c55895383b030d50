"""The cookies both scripts agree on, read from the declaration."""

from __future__ import annotations

from dataclasses import dataclass

from troth.policy.schema import CookieCategory, Declaration

CONSENT_COOKIE = "troth_consent"
"""Where the banner keeps the visitor's choice; the tracker reads it."""
DEFAULT_CONSENT_DAYS = 180
MAX_ANALYTICS_DAYS = 395
"""About 13 months: an analytics cookie never lives longer, whatever is declared."""


@dataclass(frozen=True, slots=True)
class VisitorCookies:
    consent_cookie: str
    consent_days: int
    analytics_cookie: str
    """Empty when the declaration lists no analytics cookie: then none is ever set."""
    analytics_days: int
    honor_dnt: bool
    honor_gpc: bool

    @classmethod
    def of(cls, declaration: Declaration) -> VisitorCookies:
        analytics = next(
            (c for c in declaration.cookies if c.category is CookieCategory.analytics), None
        )
        consent_days = next(
            (c.lifetime_days for c in declaration.cookies if c.name == CONSENT_COOKIE),
            DEFAULT_CONSENT_DAYS,
        )
        return cls(
            consent_cookie=CONSENT_COOKIE,
            consent_days=consent_days,
            analytics_cookie=analytics.name if analytics else "",
            analytics_days=min(analytics.lifetime_days, MAX_ANALYTICS_DAYS) if analytics else 0,
            honor_dnt=declaration.consent.honor_dnt,
            honor_gpc=declaration.consent.honor_gpc,
        )
