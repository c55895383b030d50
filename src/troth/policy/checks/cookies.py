"""Cookies and web beacons (CO5, CO6)."""

from __future__ import annotations

from collections.abc import Iterator

from troth.policy.checks.base import Context, undeclared
from troth.policy.loader import Problem
from troth.policy.schema import Beacon, Cookie, CookieCategory

MAX_CONSENTED_LIFETIME_DAYS = 395
"""Thirteen months: the longest an analytics or marketing cookie may live."""


def _trackers(ctx: Context) -> Iterator[tuple[str, int, Cookie | Beacon]]:
    for i, cookie in enumerate(ctx.declaration.cookies):
        yield "cookies", i, cookie
    for i, beacon in enumerate(ctx.declaration.beacons):
        yield "beacons", i, beacon


def tracker_purposes(ctx: Context) -> Iterator[Problem]:
    known = ctx.declaration.purposes
    for section, i, item in _trackers(ctx):
        if item.purpose not in known:
            yield Problem(
                (section, i, "purpose"), undeclared("purpose", item.purpose, "purposes", known)
            )


def cookie_lifetime(ctx: Context) -> Iterator[Problem]:
    for i, cookie in enumerate(ctx.declaration.cookies):
        too_long = cookie.lifetime_days > MAX_CONSENTED_LIFETIME_DAYS
        if cookie.category is not CookieCategory.necessary and too_long:
            yield Problem(
                ("cookies", i, "lifetime_days"),
                f"{cookie.category} cookie '{cookie.name}' lives {cookie.lifetime_days} days; "
                f"keep it to at most {MAX_CONSENTED_LIFETIME_DAYS} (13 months)",
            )


def necessary_is_essential(ctx: Context) -> Iterator[Problem]:
    purposes = ctx.declaration.purposes
    for section, i, item in _trackers(ctx):
        purpose = purposes.get(item.purpose)
        if item.category is CookieCategory.necessary and purpose and not purpose.essential:
            yield Problem(
                (section, i, "category"),
                f"necessary, but its purpose '{item.purpose}' is not essential; "
                "choose analytics or marketing, or an essential purpose",
            )


RULES = [tracker_purposes, cookie_lifetime, necessary_is_essential]
