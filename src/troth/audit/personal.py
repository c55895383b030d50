"""Spotting personal values in free text: email addresses and payment card numbers.

The audit log refuses text holding them; the log filter replaces them.
"""

from __future__ import annotations

import re

EMAIL = re.compile(
    r"[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
    re.IGNORECASE,
)
"""An address, also as it appears URL-encoded in a query string (`%40`)."""

CARD_LIKE = re.compile(r"(?<!\d)(?<!\d[ -])\d(?:[ -]?\d){12,18}(?![ -]?\d)")
"""A run of 13 to 19 digits, single spaces or dashes allowed between them, that is
not part of a longer run."""

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
"""Identifiers, not card numbers: about one random UUID in 500 holds a Luhn-valid digit run."""

EMAIL_MARK = "[email]"
CARD_MARK = "[card]"


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _digits(run: str) -> str:
    return run.replace(" ", "").replace("-", "")


def has_email(text: str) -> bool:
    return EMAIL.search(text) is not None


def _card_runs(text: str) -> list[str]:
    return [m.group() for m in CARD_LIKE.finditer(UUID.sub("", text))]


def has_card(text: str) -> bool:
    return any(luhn_valid(_digits(run)) for run in _card_runs(text))


def _card_or_run(match: re.Match[str]) -> str:
    run = match.group()
    return CARD_MARK if luhn_valid(_digits(run)) else run


def scrub(text: str) -> str:
    """The text with every email address and card number replaced by a mark (UUIDs kept)."""
    text = EMAIL.sub(EMAIL_MARK, text)
    if not UUID.search(text):
        return CARD_LIKE.sub(_card_or_run, text)
    pieces, end = [], 0
    for match in UUID.finditer(text):
        pieces += [CARD_LIKE.sub(_card_or_run, text[end : match.start()]), match.group()]
        end = match.end()
    pieces.append(CARD_LIKE.sub(_card_or_run, text[end:]))
    return "".join(pieces)


def personal_kind(text: str) -> str | None:
    """'an email address' or 'a card number' if the text holds one, else None."""
    if has_email(text):
        return "an email address"
    if has_card(text):
        return "a card number"
    return None
