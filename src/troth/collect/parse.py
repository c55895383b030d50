"""Turn a collect request body into Hits, or say in one line what is wrong with it.

Hand-written rather than a Pydantic model: this runs on every hit, and a few type checks
cost a fraction of a validation pass (see bench/collect_stages.py).
"""

from __future__ import annotations

from typing import Any

import orjson

from troth.collect.event import Hit, Kind, PropValue

MAX_BODY_BYTES = 64 * 1024
MAX_EVENTS = 50
MAX_PROPS = 30
KINDS = {kind.value: kind for kind in Kind}
LIMITS = {
    "site": 253,
    "url": 4000,
    "referrer": 4000,
    "title": 1000,
    "name": 120,
    "vid": 64,
    "idt": 2000,
}


class BadHit(ValueError):
    """The body cannot be collected; the message says why (answered with 400)."""


def _text(raw: dict[str, Any], key: str, required: bool = False) -> str:
    value = raw.get(key)
    if value is None or value == "":
        if required:
            raise BadHit(f"'{key}' is required")
        return ""
    if not isinstance(value, str):
        raise BadHit(f"'{key}' must be a string")
    if len(value) > LIMITS[key]:
        raise BadHit(f"'{key}' is longer than {LIMITS[key]} characters")
    return value


def _props(raw: dict[str, Any]) -> dict[str, PropValue]:
    props = raw.get("props")
    if props is None:
        return {}
    if not isinstance(props, dict):
        raise BadHit("'props' must be an object of strings, numbers or booleans")
    if len(props) > MAX_PROPS:
        raise BadHit(f"'props' has more than {MAX_PROPS} entries")
    for key, value in props.items():
        if not isinstance(value, str | int | float | bool) or isinstance(value, dict | list):
            raise BadHit(f"'props.{str(key)[:40]}' must be a string, number or boolean")
    return props


def _hit(raw: Any) -> Hit:
    if not isinstance(raw, dict):
        raise BadHit("each event must be a JSON object")
    kind = KINDS.get(raw.get("kind") or "pageview")
    if kind is None:
        raise BadHit(f"'kind' must be one of {', '.join(KINDS)}")
    url = _text(raw, "url", required=True)
    if not url.startswith(("https://", "http://")):
        raise BadHit("'url' must be an http(s) address")
    width = raw.get("sw", 0)
    if not isinstance(width, int) or isinstance(width, bool) or not 0 <= width <= 100_000:
        raise BadHit("'sw' must be a screen width in pixels")
    consent = raw.get("consent", False)
    if not isinstance(consent, bool):
        raise BadHit("'consent' must be true or false")
    return Hit(
        site=_text(raw, "site", required=True).lower(),
        kind=kind,
        url=url,
        referrer=_text(raw, "referrer"),
        title=_text(raw, "title"),
        name=_text(raw, "name", required=kind is Kind.event),
        props=_props(raw),
        visitor_id=_text(raw, "vid"),
        analytics_consent=consent,
        screen_width=width,
        identify_token=_text(raw, "idt"),
    )


def parse_body(body: bytes) -> list[Hit]:
    """One event object, a list of them, or {"events": [...]}."""
    if len(body) > MAX_BODY_BYTES:
        raise BadHit(f"the body is larger than {MAX_BODY_BYTES} bytes")
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BadHit("the body is not valid JSON") from None
    if isinstance(document, dict) and "events" in document:
        document = document["events"]
    events = document if isinstance(document, list) else [document]
    if not events:
        raise BadHit("no events in the body")
    if len(events) > MAX_EVENTS:
        raise BadHit(f"more than {MAX_EVENTS} events in one request")
    return [_hit(raw) for raw in events]


def parse_query(query: dict[str, str]) -> Hit:
    """The no-script pixel: /p.gif?site=...&url=...&r=... is a page view."""
    return _hit({"site": query.get("site"), "url": query.get("url"), "referrer": query.get("r")})
