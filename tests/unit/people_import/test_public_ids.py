"""New people's ids must be ones the audit log accepts."""

from __future__ import annotations

import uuid

import pytest

from troth.audit.personal import personal_kind
from troth.people import import_batch

CARD_LIKE = uuid.UUID("b3672084-8098-40ac-894d-0585b62bce03")
"""A random UUID whose digit groups 3672084-8098-40 read as a Luhn-valid card number."""


def test_co2_an_id_whose_digits_read_as_a_card_number_is_drawn_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert personal_kind(str(CARD_LIKE)) == "a card number"
    plain = uuid.UUID(int=1)
    drawn = iter([CARD_LIKE, plain])
    monkeypatch.setattr(uuid, "uuid4", lambda: next(drawn))
    assert import_batch.new_public_id() == str(plain)
