"""The banner's settings and text, generated from the declaration's cookie list.

The banner version is a hash of everything the visitor reads in the banner (texts and
the cookies listed); a consent record names it so one can show what a person agreed to.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from troth.collect.scripts.served import PerDeclaration, Script, fill
from troth.consent.cookies import VisitorCookies
from troth.consent.texts import for_languages
from troth.policy.schema import Cookie, CookieCategory, Declaration

SOURCE = Path(__file__).parent / "scripts" / "consent.js"


def _cookie(declaration: Declaration, cookie: Cookie) -> dict[str, Any]:
    purpose = declaration.purposes.get(cookie.purpose)
    return {
        "name": cookie.name,
        "purpose": purpose.label if purpose else cookie.purpose,
        "days": cookie.lifetime_days,
        "about": cookie.description,
    }


def categories(declaration: Declaration) -> list[dict[str, Any]]:
    """Necessary first and always; analytics and marketing only when cookies are declared."""
    listed = []
    for category in CookieCategory:
        cookies = [_cookie(declaration, c) for c in declaration.cookies if c.category is category]
        if cookies or category is CookieCategory.necessary:
            listed.append({"id": category.value, "cookies": cookies})
    return listed


def content(declaration: Declaration) -> dict[str, Any]:
    """What the visitor reads: the words in each language and the cookies listed."""
    org = declaration.organization.short_name
    return {
        "categories": categories(declaration),
        "texts": for_languages(declaration.consent.banner_languages, org),
    }


def version_of(shown: dict[str, Any]) -> str:
    canonical = json.dumps(shown, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def settings(declaration: Declaration) -> dict[str, Any]:
    cookies = VisitorCookies.of(declaration)
    shown = content(declaration)
    return {
        **shown,
        "version": version_of(shown),
        "consent": cookies.consent_cookie,
        "consentDays": cookies.consent_days,
        "vid": cookies.analytics_cookie,
        "days": cookies.analytics_days,
        "dnt": cookies.honor_dnt,
        "gpc": cookies.honor_gpc,
    }


def banner_version(declaration: Declaration) -> str:
    return version_of(content(declaration))


def render(declaration: Declaration) -> str:
    return fill(SOURCE, settings(declaration))


banner_script = PerDeclaration(lambda declaration: Script.of(render(declaration)))
"""The served banner for the declaration in force, built once per declaration."""
