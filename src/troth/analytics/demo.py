"""Demo traffic: a few months of plausible visits to the declared site, stored like live traffic.

Rows go through troth.collect.ingest.store_rows in large batches, so the visit ids and the
rollups come from the same hooks as collected events. Running it again adds nothing once the
site has events.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
from bisect import bisect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from troth.collect.ingest import store_rows
from troth.collect.models import StoredEvent
from troth.runtime import Runtime

T = TypeVar("T")
BATCH = 25_000
DEFAULT_SEED = 20261101
BASE_VISITS_PER_DAY = 320
GROWTH = 1.3
"""Traffic on the last day is this much above the first, before seasonality."""
RETURNING_SHARE = 0.4
COOKIELESS_SHARE = 0.3
BOUNCE_SHARE = 0.42
LIVE_VISITS = 6
WEEKDAY = (1.0, 1.08, 1.1, 1.05, 0.93, 0.58, 0.52)
HOURS = (2, 1, 1, 1, 1, 2, 3, 5, 7, 8, 9, 9, 9, 10, 11, 11, 10, 9, 8, 7, 6, 5, 4, 3)

Weighted = Sequence[tuple[T, float]]

COUNTRIES: Weighted[tuple[str, str]] = [
    (("US", "en"), 28), (("GB", "en"), 7), (("DE", "de"), 8), (("FR", "fr"), 5),
    (("CA", "en"), 4), (("IN", "en"), 5), (("NL", "nl"), 3), (("BR", "pt"), 3),
    (("ES", "es"), 3), (("IT", "it"), 2.5), (("AU", "en"), 2), (("SE", "sv"), 1.5),
    (("PL", "pl"), 1.5), (("RO", "ro"), 2), (("JP", "ja"), 2), (("MX", "es"), 1.2),
    (("CH", "de"), 1.2), (("BE", "nl"), 1), (("AT", "de"), 1), (("DK", "da"), 0.8),
    (("NO", "nb"), 0.7), (("FI", "fi"), 0.7), (("IE", "en"), 0.8), (("PT", "pt"), 0.7),
    (("CZ", "cs"), 0.7), (("UA", "uk"), 0.8), (("TR", "tr"), 0.8), (("IL", "he"), 0.5),
    (("SG", "en"), 0.6), (("KR", "ko"), 0.8), (("CN", "zh"), 0.6), (("TW", "zh"), 0.4),
    (("AR", "es"), 0.6), (("CO", "es"), 0.5), (("ZA", "en"), 0.5), (("NG", "en"), 0.5),
    (("EG", "ar"), 0.3), (("ID", "id"), 0.6), (("VN", "vi"), 0.4), (("PH", "en"), 0.4),
    (("NZ", "en"), 0.4), (("GR", "el"), 0.3), (("HU", "hu"), 0.4),
]  # fmt: skip
DEVICES: Weighted[str] = [("desktop", 58), ("mobile", 36), ("tablet", 6)]
SYSTEMS: dict[str, Weighted[tuple[str, str]]] = {
    "desktop": [(("Windows", "10"), 38), (("Windows", "11"), 17), (("Mac OS X", "14"), 30),
                (("Linux", ""), 6), (("Ubuntu", "24.04"), 4), (("Chrome OS", "124"), 5)],
    "mobile": [(("iOS", "17"), 50), (("Android", "14"), 35), (("Android", "13"), 15)],
    "tablet": [(("iOS", "17"), 70), (("Android", "14"), 30)],
}  # fmt: skip
BROWSERS: dict[str, Weighted[tuple[str, str]]] = {
    "Windows": [(("Chrome", "124"), 62), (("Edge", "124"), 22), (("Firefox", "125"), 14),
                (("Opera", "109"), 2)],
    "Mac OS X": [(("Chrome", "124"), 52), (("Safari", "17"), 38), (("Firefox", "125"), 8),
                 (("Arc", "1"), 2)],
    "iOS": [(("Mobile Safari", "17"), 82), (("Chrome Mobile iOS", "124"), 18)],
    "Android": [(("Chrome Mobile", "124"), 74), (("Samsung Internet", "24"), 16),
                (("Firefox Mobile", "125"), 10)],
    "other": [(("Chrome", "124"), 55), (("Firefox", "125"), 45)],
}  # fmt: skip


@dataclass(frozen=True)
class Campaign:
    source: str
    medium: str
    name: str
    referrer: str = ""


SEARCH: Weighted[str] = [("google.com", 80), ("bing.com", 8), ("duckduckgo.com", 7),
                         ("search.brave.com", 3), ("ecosia.org", 2)]  # fmt: skip
SOCIAL: Weighted[str] = [("news.ycombinator.com", 25), ("reddit.com", 20), ("linkedin.com", 25),
                         ("t.co", 12), ("mastodon.social", 8), ("youtube.com", 10)]  # fmt: skip
REFERRALS: Weighted[str] = [("github.com", 35), ("dev.to", 15), ("stackoverflow.com", 20),
                            ("medium.com", 10), ("g2.com", 12), ("producthunt.com", 8)]  # fmt: skip
CAMPAIGNS: Weighted[Campaign] = [
    (Campaign("newsletter", "email", "weekly-digest"), 40),
    (Campaign("newsletter", "email", "product-update"), 15),
    (Campaign("linkedin", "social", "spring-launch", "linkedin.com"), 15),
    (Campaign("google", "cpc", "analytics-privacy", "google.com"), 20),
    (Campaign("partner", "referral", "webinar-analytics-101", "eventbrite.com"), 10),
]
SOURCE_KINDS: Weighted[str] = [
    ("direct", 30),
    ("search", 35),
    ("social", 12),
    ("referral", 8),
    ("campaign", 15),
]

# (host prefix, path, title); rank order gives Zipf weights within a host.
PAGES: dict[str, list[tuple[str, str]]] = {
    "": [("/", "Lumen Insights"), ("/pricing", "Pricing"), ("/features", "Features"),
         ("/blog/cookieless-analytics", "Cookieless analytics, honestly"), ("/signup", "Sign up"),
         ("/customers", "Customers"), ("/blog/funnels-that-work", "Funnels that work"),
         ("/about", "About us"), ("/blog/retention-curves", "Reading retention curves"),
         ("/security", "Security"), ("/careers", "Careers"), ("/contact", "Contact"),
         ("/blog/weekly-digest", "The weekly digest"), ("/integrations", "Integrations"),
         ("/changelog", "Changelog"), ("/privacy", "Privacy policy")],
    "app": [("/dashboard", "Dashboard"), ("/projects", "Projects"), ("/reports", "Reports"),
            ("/reports/new", "New report"), ("/funnels", "Funnels"), ("/settings", "Settings"),
            ("/settings/team", "Team"), ("/exports", "Exports"), ("/alerts", "Alerts"),
            ("/billing", "Billing")],
    "docs": [("/docs", "Documentation"), ("/docs/getting-started", "Getting started"),
             ("/docs/tracking-events", "Tracking events"), ("/docs/api", "API reference"),
             ("/docs/funnels", "Funnels"), ("/docs/exports", "Exports"),
             ("/docs/self-hosting", "Self-hosting"), ("/docs/faq", "FAQ")],
}  # fmt: skip
FEATURES: Weighted[str] = [("funnels", 30), ("retention", 22), ("segments", 18),
                           ("dashboards", 14), ("alerts", 9), ("annotations", 7)]  # fmt: skip
PLANS: Weighted[str] = [("free", 70), ("team", 22), ("business", 8)]
EXPORT_FORMATS: Weighted[str] = [("csv", 60), ("xlsx", 25), ("pdf", 15)]


_cumulative: dict[int, tuple[list[Any], list[float]]] = {}


def pick(rng: random.Random, options: Weighted[T]) -> T:
    """A weighted choice; the cumulative weights of each table are computed once."""
    found = _cumulative.get(id(options))
    if found is None:
        values = [value for value, _ in options]
        found = _cumulative[id(options)] = (values, list(accumulate(w for _, w in options)))
    values, cumulative = found
    chosen: T = values[bisect(cumulative, rng.random() * cumulative[-1])]
    return chosen


def zipf(rng: random.Random, items: Sequence[T], skew: float = 1.1) -> T:
    ranked: Weighted[T] = _ranked(tuple(items), skew)
    return pick(rng, ranked)


@lru_cache(maxsize=64)
def _ranked(items: tuple[T, ...], skew: float) -> tuple[tuple[T, float], ...]:
    return tuple((item, 1 / (rank + 1) ** skew) for rank, item in enumerate(items))


@dataclass(frozen=True)
class Visitor:
    number: int
    cookieless: bool
    country: str
    language: str
    device: str
    os: str
    os_version: str
    browser: str
    browser_version: str

    def key(self, day: dt.date) -> str:
        """A cookieless visitor's key changes every day, as the collector's salted hash does."""
        seed = f"{self.number}:{day.isoformat()}" if self.cookieless else str(self.number)
        return hashlib.blake2b(seed.encode(), digest_size=16).hexdigest()


def new_visitor(rng: random.Random, number: int) -> Visitor:
    country, language = pick(rng, COUNTRIES)
    device = pick(rng, DEVICES)
    os_name, os_version = pick(rng, SYSTEMS[device])
    browser, version = pick(rng, BROWSERS.get(os_name, BROWSERS["other"]))
    return Visitor(
        number=number,
        cookieless=rng.random() < COOKIELESS_SHARE,
        country=country,
        language=language if rng.random() < 0.85 else "en",
        device=device,
        os=os_name,
        os_version=os_version,
        browser=browser,
        browser_version=version,
    )


@dataclass(frozen=True)
class Arrival:
    """Where a visit comes from and which part of the site it lands on."""

    referrer_host: str = ""
    campaign: Campaign | None = None
    area: str = ""


def arrival(rng: random.Random, launch_day: bool) -> Arrival:
    if launch_day and rng.random() < 0.5:
        return Arrival("news.ycombinator.com", None, "")
    kind = pick(rng, SOURCE_KINDS)
    if kind == "search":
        return Arrival(pick(rng, SEARCH), None, "docs" if rng.random() < 0.35 else "")
    if kind == "social":
        return Arrival(pick(rng, SOCIAL))
    if kind == "referral":
        return Arrival(pick(rng, REFERRALS), None, "docs" if rng.random() < 0.5 else "")
    if kind == "campaign":
        campaign = pick(rng, CAMPAIGNS)
        return Arrival(campaign.referrer, campaign, "")
    return Arrival("", None, "app" if rng.random() < 0.55 else "")


class Generator:
    """Visits day by day; `rows_for(day)` gives that day's event rows in time order."""

    def __init__(self, site: str, areas: Sequence[str], days: int, seed: int, now: dt.datetime):
        self.site = site
        self.areas = areas
        self.days = days
        self.rng = random.Random(seed)
        self.now = now
        self.first_day = now.date() - dt.timedelta(days=days - 1)
        self.visitors: list[Visitor] = []
        self.launch_days = {self.first_day + dt.timedelta(days=int(days * f)) for f in (0.55, 0.8)}

    def visits_on(self, day: dt.date) -> int:
        progress = (day - self.first_day).days / max(self.days - 1, 1)
        level = BASE_VISITS_PER_DAY * (1 + (GROWTH - 1) * progress) * WEEKDAY[day.weekday()]
        level *= math.exp(self.rng.gauss(0, 0.08))
        return int(level * (3 if day in self.launch_days else 1))

    def visitor(self) -> Visitor:
        if self.visitors and self.rng.random() < RETURNING_SHARE:
            # Recent visitors come back more often than those first seen long ago.
            recency = int(len(self.visitors) * self.rng.random() ** 3)
            return self.visitors[-1 - recency]
        found = new_visitor(self.rng, len(self.visitors))
        self.visitors.append(found)
        return found

    def start_of_visit(self, day: dt.date) -> dt.datetime:
        hour = self.rng.choices(range(24), weights=HOURS)[0]
        second = hour * 3600 + self.rng.randrange(3600)
        return dt.datetime.combine(day, dt.time(), dt.UTC) + dt.timedelta(seconds=second)

    def rows_for(self, day: dt.date) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        launch = day in self.launch_days
        for _ in range(self.visits_on(day)):
            rows.extend(
                self.visit(self.visitor(), self.start_of_visit(day), arrival(self.rng, launch))
            )
        if day == self.now.date():
            for _ in range(LIVE_VISITS):
                start = self.now - dt.timedelta(seconds=self.rng.randrange(30, 240))
                rows.extend(self.visit(self.visitor(), start, arrival(self.rng, False)))
        kept = [row for row in rows if row["ts"] <= self.now]
        kept.sort(key=lambda row: row["ts"])
        return kept

    def host(self, area: str) -> str:
        return f"{area}.{self.site}" if area and area in self.areas else self.site

    def visit(self, who: Visitor, start: dt.datetime, came: Arrival) -> Iterator[dict[str, Any]]:
        area = came.area if came.area in self.areas else ""
        bounce = self.rng.random() < BOUNCE_SHARE
        views = 1 if bounce else 2 + min(int(self.rng.expovariate(0.45)), 10)
        moment = start
        for number in range(views):
            path, title = zipf(self.rng, PAGES[area])
            base = self.base_row(who, moment, area, path, title)
            yield {**base, **(self.landing(came) if number == 0 else {})}
            if not bounce:
                for name, props in self.events(area, path):
                    moment += dt.timedelta(seconds=self.rng.randint(2, 40))
                    yield {**base, "ts": moment, "kind": "event", "name": name, "props": props}
            moment += dt.timedelta(seconds=int(self.rng.lognormvariate(3.6, 0.9)) + 3)
            if area == "" and self.rng.random() < 0.15 and "app" in self.areas:
                area = "app"

    def landing(self, came: Arrival) -> dict[str, Any]:
        found: dict[str, Any] = {"referrer_host": came.referrer_host}
        if came.referrer_host:
            found["referrer_path"] = "/"
        if came.campaign is not None:
            found["utm_source"] = came.campaign.source
            found["utm_medium"] = came.campaign.medium
            found["utm_campaign"] = came.campaign.name
        return found

    def events(self, area: str, path: str) -> list[tuple[str, dict[str, Any]]]:
        rng = self.rng
        found: list[tuple[str, dict[str, Any]]] = []
        if area == "app" and rng.random() < 0.45:
            found.append(("feature_used", {"feature": pick(rng, FEATURES)}))
        if path == "/exports" or (area == "app" and rng.random() < 0.05):
            found.append(("export", {"format": pick(rng, EXPORT_FORMATS)}))
        if path == "/settings/team" and rng.random() < 0.3:
            found.append(("invite_sent", {"seats": rng.randint(1, 5)}))
        if path == "/signup" and rng.random() < 0.4:
            found.append(("signup", {"plan": pick(rng, PLANS)}))
        if area == "docs" and rng.random() < 0.12:
            found.append(("docs_search", {"results": rng.choice(("some", "none"))}))
        return found

    def base_row(
        self, who: Visitor, moment: dt.datetime, area: str, path: str, title: str
    ) -> dict[str, Any]:
        return {
            "site": self.site, "ts": moment, "kind": "pageview", "name": "", "path": path,
            "title": title, "hostname": self.host(area), "referrer_host": "",
            "referrer_path": "", "utm_source": "", "utm_medium": "", "utm_campaign": "",
            "utm_term": "", "utm_content": "", "country": who.country, "language": who.language,
            "browser": who.browser, "browser_version": who.browser_version, "os": who.os,
            "os_version": who.os_version, "device": who.device,
            "visitor_key": who.key(moment.date()), "cookieless": who.cookieless, "props": None,
            "ip": "", "person_id": None,
        }  # fmt: skip


def demo_site(runtime: Runtime) -> tuple[str, list[str]]:
    """The first declared site, and the subdomain areas it may use."""
    site = runtime.declaration.sites[0]
    return site.domain, (["app", "docs"] if site.include_subdomains else [])


def has_events(session: Session, site: str) -> bool:
    found = session.scalars(select(StoredEvent.id).where(StoredEvent.site == site).limit(1))
    return found.first() is not None


def generate_demo_traffic(
    runtime: Runtime,
    *,
    days: int = 120,
    seed: int = DEFAULT_SEED,
    now: dt.datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Store `days` of demo traffic ending now; returns the events stored (0 if there were some).
    `progress` is told how many days are done after each day."""
    site, areas = demo_site(runtime)
    moment = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    generator = Generator(site, areas, days, seed, moment)
    stored = 0
    with runtime.transaction() as session:
        if has_events(session, site):
            return 0
        pending: list[dict[str, Any]] = []
        for offset in range(days):
            pending.extend(generator.rows_for(generator.first_day + dt.timedelta(days=offset)))
            if len(pending) >= BATCH:
                store_rows(session, pending)
                stored, pending = stored + len(pending), []
            if progress is not None:
                progress(offset + 1)
        store_rows(session, pending)
    return stored + len(pending)
