"""Card payment details as a processor's token, brand, last four digits and expiry (CO1).

The processor must be a declared third party that receives card payment details; the token
must not itself be a card number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from troth.errors import Unprocessable
from troth.people.cards import looks_like_card
from troth.people.fields import PAYMENT_CATEGORY
from troth.policy.schema import Declaration

BRANDS = frozenset(
    {"visa", "mastercard", "amex", "discover", "diners", "jcb", "unionpay", "maestro", "other"}
)
_TOKEN = re.compile(r"[\x21-\x7e]{4,255}")
_LAST4 = re.compile(r"\d{4}")


@dataclass(frozen=True)
class Card:
    processor: str
    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


def check_card(declaration: Declaration, card: Card) -> Card:
    """The card with its brand lower-cased; a 422 names every problem."""
    problems = [*_category_problems(declaration), *_processor_problems(declaration, card)]
    if not _TOKEN.fullmatch(card.token):
        problems.append("token: 4 to 255 printable characters without spaces")
    elif looks_like_card(card.token):
        problems.append("token: that is a card number; send the processor's token instead")
    if card.brand.lower() not in BRANDS:
        problems.append(f"brand: one of {', '.join(sorted(BRANDS))}")
    if not _LAST4.fullmatch(card.last4):
        problems.append("last4: exactly four digits")
    if not 1 <= card.exp_month <= 12:
        problems.append("exp_month: 1 to 12")
    if not 2000 <= card.exp_year <= 2100:
        problems.append("exp_year: a four-digit year")
    if problems:
        raise Unprocessable("; ".join(problems))
    return Card(
        card.processor, card.token, card.brand.lower(), card.last4, card.exp_month, card.exp_year
    )


def _category_problems(declaration: Declaration) -> list[str]:
    category = declaration.categories.get(PAYMENT_CATEGORY)
    if category is None:
        return [f"the declaration does not declare '{PAYMENT_CATEGORY}'"]
    if not category.token_only:
        return [f"'{PAYMENT_CATEGORY}' must be declared token_only"]
    return []


def _processor_problems(declaration: Declaration, card: Card) -> list[str]:
    receiving = sorted(
        party.id for party in declaration.third_parties if PAYMENT_CATEGORY in party.categories
    )
    if card.processor in receiving:
        return []
    declared = ", ".join(receiving) or "none"
    return [
        f"processor: '{card.processor}' is not declared to receive {PAYMENT_CATEGORY} "
        f"(declared: {declared})"
    ]
