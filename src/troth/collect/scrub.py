"""Removing personal values and secrets from what the collector stores.

Emails, payment card numbers (Luhn-checked), phone numbers and secrets (secret-named
query parameters, JWTs) are replaced by a mark before anything is written. The
original text is never kept or logged. Each check runs only when a cheap test says it
could match (an "@", an "=", seven digits...), so ordinary paths and titles cost a
few hundred nanoseconds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from phonenumbers import Leniency, PhoneNumberMatcher

from troth.audit.personal import CARD_LIKE, CARD_MARK, EMAIL, EMAIL_MARK, luhn_valid
from troth.collect.event import Event, PropValue

PHONE_MARK = "[phone]"
SECRET_MARK = "[secret]"  # noqa: S105 (a mark, not a password)

PATH_LIMIT = 2000
TITLE_LIMIT = 300
NAME_LIMIT = 200
HOST_LIMIT = 253
PARAM_LIMIT = 200
PROP_KEY_LIMIT = 100
PROP_VALUE_LIMIT = 500
MAX_PROPS = 30

SECRET_NAMES = frozenset(
    {"key", "code", "sid", "pass", "pwd", "pin", "otp", "sig", "signature", "auth",
     "authorization", "bearer", "ssn", "nonce", "hmac", "csrf", "xsrf", "ticket"}
)  # fmt: skip
SECRET_PARTS = re.compile(
    r"token|secret|passw|passphrase|session|sessid|apikey|api_key|jwt|credential|"
    r"private_key|access_key|auth_key"
)

_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*")
_PARAM = re.compile(r"([A-Za-z0-9_.\-\[\]]{1,64})=([^&#\s\"'<>]*)")
_SEVEN_DIGITS = re.compile(r"(?:\D*+\d){7}")
"""Used with .match: one pass, no backtracking (possessive)."""
_ASCII_DIGITS = b"0123456789"
_PARTIAL_TAIL = re.compile(r"[^\s/?&=#,;]*\Z")

_NO_PHONE: dict[tuple[str, str], None] = {}
"""Texts (already free of emails, cards and secrets) in which no phone number was
found, so repeated paths and titles skip the matcher. Oldest entries go first."""
_NO_PHONE_SIZE = 4096


def is_secret_name(name: str) -> bool:
    norm = name.lower().removesuffix("[]").replace("-", "_").replace(".", "_")
    return norm in SECRET_NAMES or SECRET_PARTS.search(norm) is not None


def _param(match: re.Match[str]) -> str:
    name, value = match.group(1), match.group(2)
    return f"{name}={SECRET_MARK}" if value and is_secret_name(name) else match.group()


def _card(match: re.Match[str]) -> str:
    run = match.group()
    return CARD_MARK if luhn_valid(run.replace(" ", "").replace("-", "")) else run


def _phones(text: str, region: str) -> str:
    cache_key = (text, region)
    if cache_key in _NO_PHONE:
        return text
    found = [(m.start, m.end) for m in PhoneNumberMatcher(text, region, leniency=Leniency.VALID)]
    if not found:
        if len(_NO_PHONE) >= _NO_PHONE_SIZE:
            _NO_PHONE.pop(next(iter(_NO_PHONE), cache_key), None)
        _NO_PHONE[cache_key] = None
        return text
    for start, end in reversed(found):
        text = text[:start] + PHONE_MARK + text[end:]
    return text


def has_seven_digits(text: str) -> bool:
    """Seven digits or more anywhere in `text`. An ASCII text (nearly every one) has its digit
    bytes counted, about twice as fast as the pattern, which reads any other text."""
    if text.isascii():
        raw = text.encode("ascii")
        return len(raw) - len(raw.translate(None, _ASCII_DIGITS)) >= 7
    return _SEVEN_DIGITS.match(text) is not None


def might_hold_personal(text: str) -> bool:
    """Whether any of `scrub_text`'s cheap tests passes (a JWT start, "=", "@" or "%40",
    seven digits); when none does, there is nothing to replace."""
    return (
        "eyJ" in text
        or "=" in text
        or "@" in text
        or "%40" in text
        or has_seven_digits(text)
    )


def scrub_text(text: str, region: str = "ZZ") -> str:
    """`text` with every email, card number, phone number and secret replaced by a mark.

    `region` (ISO country) reads phone numbers written without a country code; with
    "ZZ" only international numbers (+44 ...) are recognised.
    """
    if not text or not might_hold_personal(text):
        return text
    if "eyJ" in text:
        text = _JWT.sub(SECRET_MARK, text)
    if "=" in text:
        text = _PARAM.sub(_param, text)
    if "@" in text or "%40" in text:
        text = EMAIL.sub(EMAIL_MARK, text)
    if has_seven_digits(text):
        text = CARD_LIKE.sub(_card, text)
        if has_seven_digits(text):
            text = _phones(text, region or "ZZ")
    return text


def scrub_field(text: str, limit: int, region: str = "ZZ") -> str:
    """Scrubbed, then cut to `limit` characters.

    Very long input is first cut to a few times the limit, at a separator so no value
    is left half there for the checks to miss; scrubbing then costs a bounded time.
    """
    if len(text) > 4 * limit:
        text = _PARTIAL_TAIL.sub("", text[: 4 * limit])
    return scrub_text(text, region)[:limit]


def scrub_value(value: PropValue, region: str = "ZZ") -> PropValue:
    if isinstance(value, str):
        return scrub_field(value, PROP_VALUE_LIMIT, region)
    if isinstance(value, bool) or abs(value) < 1_000_000:
        return value
    text = str(value)
    scrubbed = scrub_text(text, region)
    return value if scrubbed == text else scrubbed


def scrub_props(props: Mapping[str, PropValue], region: str = "ZZ") -> dict[str, PropValue]:
    """At most MAX_PROPS properties, keys and values scrubbed; a secret-named key keeps
    its name but loses its value."""
    out: dict[str, PropValue] = {}
    for key, value in list(props.items())[:MAX_PROPS]:
        clean_key = scrub_field(key, PROP_KEY_LIMIT, region)
        out[clean_key] = SECRET_MARK if is_secret_name(key) else scrub_value(value, region)
    return out


TEXT_FIELDS = (
    ("path", PATH_LIMIT), ("title", TITLE_LIMIT), ("name", NAME_LIMIT),
    ("referrer_host", HOST_LIMIT), ("referrer_path", PATH_LIMIT),
    ("utm_source", PARAM_LIMIT), ("utm_medium", PARAM_LIMIT), ("utm_campaign", PARAM_LIMIT),
    ("utm_term", PARAM_LIMIT), ("utm_content", PARAM_LIMIT),
)  # fmt: skip
"""An event's free-text fields, in the order `scrub_event` reads them, with their limits."""
_SHORTEST_LIMIT = min(limit for _, limit in TEXT_FIELDS)


def scrub_event(event: Event, region: str = "ZZ") -> None:
    """Scrub and cap, in place, every free-text field of an enriched event."""
    texts = (
        event.path, event.title, event.name, event.referrer_host, event.referrer_path,
        event.utm_source, event.utm_medium, event.utm_campaign, event.utm_term,
        event.utm_content,
    )  # fmt: skip
    # All fields at once first: short enough for every limit and none of the cheap tests
    # passing on the whole (a field's digits count towards the whole's) is the usual case.
    # The newlines keep a test from matching across two fields.
    joined = "\n".join(texts)
    if len(joined) > _SHORTEST_LIMIT or might_hold_personal(joined):
        for (name, limit), text in zip(TEXT_FIELDS, texts, strict=True):
            if text and (len(text) > limit or might_hold_personal(text)):
                setattr(event, name, scrub_field(text, limit, region))
    if event.props:
        event.props = scrub_props(event.props, region)
