"""New people's ids must be ones the audit log accepts."""

from __future__ import annotations

import uuid

from troth.audit.personal import personal_kind

CARD_LIKE = uuid.UUID("b3672084-8098-40ac-894d-0585b62bce03")
"""A random UUID whose digit groups 3672084-8098-40 read as a Luhn-valid card number."""


def test_co2_a_person_id_is_never_taken_for_a_card_number() -> None:
    assert personal_kind(str(CARD_LIKE)) is None
    assert personal_kind(f"person {CARD_LIKE} imported") is None
    assert personal_kind("card 4111 1111 1111 1111") == "a card number"
