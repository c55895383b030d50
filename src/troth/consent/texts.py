"""The banner's words, per language. English ships; another language is one more entry.

`{org}` stands for the organization's short name, `{n}` for a number of days.
"""

from __future__ import annotations

ENGLISH: dict[str, str] = {
    "title": "Cookies on this site",
    "intro": (
        "{org} needs a few cookies to make this site work. With your permission it also "
        "uses cookies to count visits and learn which pages help people, and to remember "
        "which campaign brought you here. Your choice applies until you change it, which "
        "you can do at any time from the cookie settings link."
    ),
    "accept": "Accept all",
    "reject": "Reject all",
    "choose": "Choose",
    "save": "Save my choices",
    "always_on": "Always on",
    "cookie": "Cookie",
    "purpose": "Used to",
    "lifetime": "Kept for",
    "day": "{n} day",
    "days": "{n} days",
    "signal": (
        "Your browser sends a do-not-track or Global Privacy Control signal. We respect "
        "it: analytics and marketing cookies stay off whatever you choose here."
    ),
    "policy": "Privacy policy",
    "necessary": "Necessary",
    "necessary_about": "Needed for the site to work, such as remembering these choices.",
    "analytics": "Analytics",
    "analytics_about": "Count visits and show which pages and features people use.",
    "marketing": "Marketing",
    "marketing_about": "Remember how you found us, so we know which campaigns work.",
}

LANGUAGES: dict[str, dict[str, str]] = {"en": ENGLISH}
FALLBACK = "en"


def for_languages(wanted: list[str], org: str) -> dict[str, dict[str, str]]:
    """The texts of each declared language Troth has words for; English always."""
    chosen = [code for code in wanted if code in LANGUAGES] or [FALLBACK]
    if FALLBACK not in chosen:
        chosen.append(FALLBACK)
    return {code: _filled(LANGUAGES[code], org) for code in chosen}


def _filled(texts: dict[str, str], org: str) -> dict[str, str]:
    return {key: value.replace("{org}", org) for key, value in texts.items()}
