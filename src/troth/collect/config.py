"""What the declaration says about collection, compiled once into an immutable view.

The collector reads this on every hit, so everything is turned into frozensets and
tuples up front; nothing here touches the declaration's pydantic models per request.

Cookie mode and cookieless mode (CO6)
-------------------------------------
A visitor is in *cookie mode* when they allowed analytics cookies (explicitly where
the declaration asks for opt-in, or by not objecting where it is opt-out) and neither
Global Privacy Control nor Do Not Track, when the declaration honours them, says no.
Only then does the tracker keep a random 128-bit id in the first-party analytics
cookie (lifetime from the declaration, never more than 13 months), and that id is the
visitor key: visits on different days by the same browser count as one returning
visitor.

Everyone else is *cookieless*: no cookie is set or read, and the visitor key is a
keyed hash of site, IP address and user agent under a salt that changes every day and
is deleted the day after (see `visitor.py`). Within a day, page views from one browser
still group into visits; across days the same person looks new, so returning-visitor
figures degrade and unique visitors are only meaningful per day. The site itself keeps
working the same either way: nothing the visitor sees depends on the cookie.
"""

from __future__ import annotations

from dataclasses import dataclass

from troth.collect.sites import Sites
from troth.policy.schema import ConsentMode, CookieCategory, Declaration, IpHandling

MAX_COOKIE_DAYS = 395
"""Thirteen months: the longest an analytics cookie may live, whatever is declared."""

UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


@dataclass(frozen=True, slots=True)
class CollectConfig:
    sites: Sites
    campaign_parameters: frozenset[str]
    """Declared query parameters that are kept."""
    campaign_fields: frozenset[str]
    """The declared ones that have an event field (utm_*); the others cannot be stored."""
    ip: IpHandling
    ip_purpose: str | None
    analytics_default: ConsentMode
    honor_gpc: bool
    honor_dnt: bool
    analytics_cookie: str
    """Name of the declared analytics cookie; "" when none is declared (always cookieless)."""
    cookie_lifetime_days: int
    phone_region: str
    """Region for phone numbers written without a country code when the visitor's
    country is unknown: the first declared storage region."""

    def site_of(self, host: str) -> str | None:
        """The declared domain that `host` belongs to (itself or, if allowed, a subdomain)."""
        return self.sites.site_of(host)

    def is_declared_site(self, site: str) -> bool:
        return site.lower() in self.sites.exact


def compile_config(declaration: Declaration) -> CollectConfig:
    consent = declaration.consent
    analytics = next(
        (c for c in declaration.cookies if c.category is CookieCategory.analytics), None
    )
    return CollectConfig(
        sites=Sites.of(declaration.sites),
        campaign_parameters=frozenset(declaration.collection.campaign_parameters),
        campaign_fields=frozenset(declaration.collection.campaign_parameters) & set(UTM_FIELDS),
        ip=declaration.collection.ip,
        ip_purpose=declaration.collection.ip_purpose,
        analytics_default=consent.analytics_default,
        honor_gpc=consent.honor_gpc,
        honor_dnt=consent.honor_dnt,
        analytics_cookie=analytics.name if analytics else "",
        cookie_lifetime_days=min(analytics.lifetime_days, MAX_COOKIE_DAYS) if analytics else 0,
        phone_region=declaration.storage.regions[0][:2],
    )


def cookie_mode(
    config: CollectConfig, *, consent: bool, gpc: bool, dnt: bool, country: str
) -> bool:
    """True when the visitor is in cookie mode, False when cookieless.

    GPC or DNT (when honoured) win over any flag. In an opt-in region only the explicit
    consent the banner records counts; elsewhere the tracker sends the flag unless the
    visitor objected. Either way a missing flag means cookieless: the country changes what
    the banner asks (`troth.consent.regions.mode_for`), never what a missing answer means.
    """
    if not config.analytics_cookie:
        return False
    if (gpc and config.honor_gpc) or (dnt and config.honor_dnt):
        return False
    return consent
