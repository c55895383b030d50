"""What the collector receives (a Hit and its request) and what it stores (an Event)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

PropValue = str | int | float | bool


class Kind(StrEnum):
    pageview = "pageview"
    event = "event"
    outbound = "outbound"
    download = "download"


@dataclass(slots=True)
class Hit:
    """One event as the tracker (or the pixel) sent it, validated but not yet enriched."""

    site: str
    kind: Kind
    url: str
    referrer: str = ""
    title: str = ""
    name: str = ""
    """A custom event's name (kind=event), e.g. "feature_used"."""
    props: dict[str, PropValue] = field(default_factory=dict)
    visitor_id: str = ""
    """The first-party cookie id, sent only when the visitor allowed analytics cookies."""
    analytics_consent: bool = False
    screen_width: int = 0
    identify_token: str = ""


@dataclass(slots=True)
class RequestContext:
    """What the HTTP request itself tells about the visitor (never stored as such).

    Not frozen, like the other values built on every hit: a frozen dataclass takes about
    twice as long to build."""

    client_ip: str
    user_agent: str
    accept_language: str
    gpc: bool
    dnt: bool
    now: dt.datetime


@dataclass  # no slots: orjson writes a dataclass's __dict__ three times as fast as its slots
class Event:
    """An enriched, scrubbed event, ready for the journal and the events table."""

    site: str
    ts: dt.datetime
    kind: str
    path: str
    visitor_key: str
    cookieless: bool
    name: str = ""
    title: str = ""
    hostname: str = ""
    referrer_host: str = ""
    referrer_path: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    utm_term: str = ""
    utm_content: str = ""
    country: str = ""
    language: str = ""
    browser: str = ""
    browser_version: str = ""
    os: str = ""
    os_version: str = ""
    device: str = ""
    props: dict[str, PropValue] = field(default_factory=dict)
    ip: str = ""
    """Per the declaration: empty (dropped), truncated, or the encrypted form (base64)."""
    person_id: str | None = None
