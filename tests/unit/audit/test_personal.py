"""Spotting and scrubbing email addresses and card numbers in free text."""

from __future__ import annotations

import pytest

from troth.audit.personal import luhn_valid, personal_kind, scrub

VISA_TEST = "4111111111111111"


def test_luhn() -> None:
    assert luhn_valid(VISA_TEST)
    assert luhn_valid("79927398713")
    assert not luhn_valid("4111111111111112")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail ann@example.com now", "mail [email] now"),
        ("/u?to=ann%40example.com&x=1", "/u?to=[email]&x=1"),
        (f"card {VISA_TEST}.", "card [card]."),
        ("card 4111 1111 1111 1111 end", "card [card] end"),
        ("card 4111-1111-1111-1111", "card [card]"),
        ("amex 378282246310005", "amex [card]"),
    ],
)
def test_se1_scrub_replaces_personal_values(text: str, expected: str) -> None:
    assert scrub(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "4111111111111112",  # fails the Luhn check
        "order 123456789012",  # 12 digits: too short
        "41111111111111110000",  # 20 digits: part of a longer run
        "12345678-1234-1234-1234-123456789012",  # an all-digit UUID
        "person 42 read email,name for support",
        "at 2030-01-01 12:00:00",
    ],
)
def test_se1_scrub_leaves_ordinary_text(text: str) -> None:
    assert scrub(text) == text
    assert personal_kind(text) is None


def test_se1_scrub_is_idempotent() -> None:
    once = scrub(f"ann@example.com paid with {VISA_TEST}")
    assert once == "[email] paid with [card]"
    assert scrub(once) == once


def test_personal_kind_names_what_it_found() -> None:
    assert personal_kind("ann@example.com") == "an email address"
    assert personal_kind(f"x {VISA_TEST}") == "a card number"


def test_uuids_are_identifiers_not_card_numbers() -> None:
    import uuid

    from troth.audit.personal import has_card, scrub

    # This UUID holds the Luhn-valid run 4111-1111-1111-1111 between letters.
    tricky = "0a1b2c3d-4111-1111-1111-1111abcdef12"
    assert not has_card(tricky)
    assert scrub(f"person {tricky}") == f"person {tricky}"
    assert not any(has_card(str(uuid.uuid4())) for _ in range(5000))
    assert scrub(f"{tricky} paid with 4111 1111 1111 1111") == f"{tricky} paid with [card]"
