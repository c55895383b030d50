"""The tracker's text, generated from the declaration: cookie names, lifetime, DNT and GPC."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from troth.collect.scripts.served import PerDeclaration, Script, fill
from troth.consent.cookies import VisitorCookies
from troth.policy.schema import Declaration

SOURCE = Path(__file__).with_name("tracker.js")


def settings(declaration: Declaration) -> dict[str, Any]:
    cookies = VisitorCookies.of(declaration)
    return {
        "consent": cookies.consent_cookie,
        "vid": cookies.analytics_cookie,
        "days": cookies.analytics_days,
        "dnt": cookies.honor_dnt,
        "gpc": cookies.honor_gpc,
    }


def render(declaration: Declaration) -> str:
    return fill(SOURCE, settings(declaration))


tracker_script = PerDeclaration(lambda declaration: Script.of(render(declaration)))
"""The served tracker for the declaration in force, built once per declaration."""
