"""Spotting card numbers and security codes in requests (CO1: card details only as tokens)."""

from __future__ import annotations

import json

import pytest

from troth.people.cards import (
    body_offends,
    is_security_code_key,
    json_pairs,
    looks_like_card,
    query_offends,
)

CARD = "4539148803436467"


@pytest.mark.parametrize(
    "text",
    [CARD, "4539 1488 0343 6467", "4539-1488-0343-6467", f"pay with {CARD} please", f"({CARD})"],
)
def test_co1_card_numbers_are_seen(text: str) -> None:
    assert looks_like_card(text)


@pytest.mark.parametrize(
    "text",
    [
        "4539148803436468",  # fails the Luhn check
        "453914880343",  # 12 digits
        "+86 138 0013 8002",  # a phone number, Luhn-valid without its +
        f"a1b2{CARD}ff",  # inside a hex token
        "order 2026-11-02",
    ],
)
def test_co1_other_digits_are_not_cards(text: str) -> None:
    assert not looks_like_card(text)


@pytest.mark.parametrize(
    "key", ["cvc", "CVV", "cvv2", "card_cvc", "cardCvc", "security-code", "csc"]
)
def test_co1_security_code_keys(key: str) -> None:
    assert is_security_code_key(key)
    assert body_offends("application/json", json.dumps({key: "123"}).encode())
    assert body_offends("application/json", json.dumps({"card": {key: 1234}}).encode())


def test_co1_security_code_needs_three_or_four_digits() -> None:
    assert not is_security_code_key("code")
    assert not body_offends("application/json", b'{"cvc": "not given"}')
    assert not body_offends("application/json", b'{"zip": "123"}')


def test_co1_json_is_walked_keys_values_and_numbers() -> None:
    pairs = list(json_pairs({"a": [{"b": "x"}, 7], "c": None}))
    assert ("b", "x") in pairs
    assert ("a", "7") in pairs
    assert body_offends("application/json", json.dumps({"n": int(CARD)}).encode())
    assert body_offends("application/json", json.dumps({CARD: "key"}).encode())
    escaped = json.dumps({"x": "".join(f"\\u00{ord(c):x}" for c in CARD)}).replace("\\\\", "\\")
    assert body_offends("application/json", escaped.encode())


def test_co1_forms_and_query_strings_are_decoded() -> None:
    form = "application/x-www-form-urlencoded"
    assert body_offends(form, b"note=4539+1488+0343+6467")
    assert body_offends(form, b"note=4539%201488%200343%206467")
    assert body_offends(form, b"cvv=123")
    assert query_offends(b"card=4539+1488+0343+6467")
    assert not query_offends(b"purpose=support&page=2")
    assert body_offends("text/plain", f"card: {CARD}".encode())
