"""The age of majority by jurisdiction, and a person's age in whole years.

A person may use the services alone from the higher of 18 and the age of majority where they
live (CH1). The built-in table lists only places where that age is above 18 and well
documented; the declaration's `children` section overrides and extends it. A jurisdiction is
an ISO 3166-2 subdivision ("US-AL") or an ISO 3166-1 country ("DE"): a subdivision that is not
listed falls back to its country, then to the default. A missing or unrecognised code gets the
default and is flagged for review.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pycountry

from troth.policy.schema import Children

FLOOR = 18
"""CH1 says "under 18, or under the age of majority where they live": never below 18."""
DECLARED = "the declaration (children.ages_of_majority)"
DEFAULT_SOURCE = "the default age of majority"


@dataclass(frozen=True)
class Entry:
    age: int
    source: str


_CANADA = "Age of Majority Act of the province or territory"
TABLE: dict[str, Entry] = {
    "US-AL": Entry(19, "Code of Alabama §26-1-1"),
    "US-NE": Entry(19, "Nebraska Revised Statutes §43-2101"),
    "US-MS": Entry(21, "Mississippi Code §1-3-27"),
    "US-PR": Entry(21, "Civil Code of Puerto Rico (age of majority 21)"),
    "PR": Entry(21, "Civil Code of Puerto Rico (age of majority 21)"),
    "KR": Entry(19, "Civil Act of the Republic of Korea, Article 4"),
    "TH": Entry(20, "Thai Civil and Commercial Code, Section 19"),
    "NZ": Entry(20, "Age of Majority Act 1970 (New Zealand), section 4"),
    "CA-BC": Entry(19, f"{_CANADA} (British Columbia, RSBC 1996 c. 7)"),
    "CA-NB": Entry(19, f"{_CANADA} (New Brunswick, RSNB 2011 c. 103)"),
    "CA-NL": Entry(19, f"{_CANADA} (Newfoundland and Labrador, SNL 1995 c. A-4.2)"),
    "CA-NS": Entry(19, f"{_CANADA} (Nova Scotia, RSNS 1989 c. 4)"),
    "CA-NT": Entry(19, f"{_CANADA} (Northwest Territories, RSNWT 1988 c. A-2)"),
    "CA-NU": Entry(19, f"{_CANADA} (Nunavut, as adopted from the Northwest Territories)"),
    "CA-YT": Entry(19, f"{_CANADA} (Yukon, RSY 2002 c. 2)"),
}


@dataclass(frozen=True)
class Majority:
    """The age from which a person living in a jurisdiction may use the services alone."""

    threshold: int
    matched: str | None
    """The table key the age came from; None when the default applied."""
    source: str
    needs_review: bool = False


def threshold(jurisdiction: str | None, children: Children | None = None) -> Majority:
    children = children or Children()
    default = max(FLOOR, children.default_age_of_majority)
    code = (jurisdiction or "").strip().upper()
    if not _recognised(code):
        reason = "no jurisdiction known" if not code else f"unrecognised jurisdiction {code}"
        return Majority(default, None, f"{DEFAULT_SOURCE} ({reason})", needs_review=True)
    for key in _candidates(code):
        entry = _entry(key, children)
        if entry is not None:
            return Majority(max(FLOOR, entry.age), key, entry.source)
    return Majority(default, None, DEFAULT_SOURCE)


def _entry(key: str, children: Children) -> Entry | None:
    declared = children.ages_of_majority.get(key)
    if declared is not None:
        return Entry(declared, DECLARED)
    return TABLE.get(key)


def _candidates(code: str) -> list[str]:
    country, _, subdivision = code.partition("-")
    return [code, country] if subdivision else [code]


def _recognised(code: str) -> bool:
    if len(code) == 2:
        return pycountry.countries.get(alpha_2=code) is not None
    if 4 <= len(code) <= 6 and code[2:3] == "-":
        found = pycountry.subdivisions.get(code=code)  # type: ignore[no-untyped-call]
        return found is not None
    return False


def age_on(born: dt.date, today: dt.date) -> int:
    """Whole years from `born` to `today`. Someone born on 29 February turns a year older on
    1 March in common years (the day after 28 February)."""
    had_birthday = (today.month, today.day) >= (born.month, born.day)
    return today.year - born.year - (0 if had_birthday else 1)
