"""Checking and normalising one value of each kind; a problem raises Invalid with a plain reason."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

import phonenumbers
import pycountry
from email_validator import EmailNotValidError, validate_email

from troth.people.cards import looks_like_card

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SPACES = re.compile(r"\s+")
ADDRESS_PARTS = ("line1", "line2", "city", "region", "postal_code", "country")
ADDRESS_REQUIRED = ("line1", "city", "country")
OLDEST_BIRTH_YEAR = 1900


class Invalid(ValueError):
    """A value that cannot be stored; the message says why, without repeating the value."""


@dataclass(frozen=True)
class Hints:
    country: str | None
    """The person's country: the default region of a phone number without +."""
    today: dt.date


def text(value: object, max_length: int) -> str:
    if not isinstance(value, str):
        raise Invalid("must be text")
    cleaned = _SPACES.sub(" ", value).strip()
    if not cleaned:
        raise Invalid("must not be empty")
    if len(cleaned) > max_length:
        raise Invalid(f"at most {max_length} characters")
    if _CONTROL.search(cleaned):
        raise Invalid("must not hold control characters")
    if looks_like_card(cleaned):
        raise Invalid("card numbers are not accepted; use your payment processor's token")
    return cleaned


def email(value: object) -> str:
    raw = text(value, 320)
    try:
        return validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise Invalid(f"not a valid email address ({exc})") from None


def phone(value: object, hints: Hints) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid("must be a phone number as text")
    if len(value) > 40:
        raise Invalid("at most 40 characters")
    try:
        parsed = phonenumbers.parse(value, hints.country)
    except phonenumbers.NumberParseException:
        where = (
            f" for {hints.country}" if hints.country else " (start it with + and the country code)"
        )
        raise Invalid(f"not a phone number{where}") from None
    if not phonenumbers.is_valid_number(parsed):
        raise Invalid("not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def country(value: object) -> str:
    code = value.strip().upper() if isinstance(value, str) else ""
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise Invalid("not an ISO 3166-1 alpha-2 country code (like US or DE)")
    return code


def region(value: object) -> str:
    code = value.strip().upper() if isinstance(value, str) else ""
    found = pycountry.subdivisions.get(code=code) if 4 <= len(code) <= 6 else None  # type: ignore[no-untyped-call]
    if found is None:
        raise Invalid("not an ISO 3166-2 region code (like US-AL or CA-BC)")
    return code


def date_of_birth(value: object, hints: Hints) -> str:
    raw = text(value, 10)
    try:
        born = dt.date.fromisoformat(raw)
    except ValueError:
        raise Invalid("not a date in the form YYYY-MM-DD") from None
    if born > hints.today:
        raise Invalid("must not be in the future")
    if born.year < OLDEST_BIRTH_YEAR:
        raise Invalid(f"must not be before {OLDEST_BIRTH_YEAR}")
    return born.isoformat()


def age(value: object) -> str:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 130:
        raise Invalid("must be a whole number of years from 0 to 130")
    return str(value)


def postal_address(value: object) -> str:
    """Stored as one JSON object with the parts given, in a fixed order."""
    if not isinstance(value, Mapping):
        raise Invalid(f"must be an object with {', '.join(ADDRESS_PARTS)}")
    unknown = sorted(str(key) for key in value if key not in ADDRESS_PARTS)
    if unknown:
        raise Invalid(
            f"unknown part {', '.join(unknown)}; the parts are {', '.join(ADDRESS_PARTS)}"
        )
    parts = {key: value[key] for key in ADDRESS_PARTS if value.get(key) not in (None, "")}
    missing = [key for key in ADDRESS_REQUIRED if key not in parts]
    if missing:
        raise Invalid(f"{', '.join(missing)} missing")
    cleaned = {key: _address_part(key, part) for key, part in parts.items()}
    return json.dumps(cleaned, separators=(",", ":"), ensure_ascii=False)


def _address_part(key: str, part: object) -> str:
    try:
        if key == "country":
            return country(part)
        return text(part, 200 if key.startswith("line") else 100)
    except Invalid as exc:
        raise Invalid(f"{key}: {exc}") from None
