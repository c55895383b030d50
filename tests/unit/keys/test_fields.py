"""Field encryption and blind indexes over fixed keys (no key store, no database)."""

from __future__ import annotations

import pytest

from troth.errors import BadRequest
from troth.keys.aead import associated_data
from troth.keys.errors import KeyDestroyed, UnreadableValue
from troth.keys.fields import VERSION, FieldCipher, normalize


class FixedKeys:
    def __init__(self, index: bytes = b"i" * 32) -> None:
        self.keys = {"p1": b"1" * 32, "p2": b"2" * 32}
        self.index = index

    def data_key(self, person_id: str) -> bytes:
        if person_id not in self.keys:
            raise KeyDestroyed(person_id)
        return self.keys[person_id]

    def index_key(self) -> bytes:
        return self.index


@pytest.fixture
def cipher() -> FieldCipher:
    return FieldCipher(FixedKeys())


def test_se1_a_field_round_trips_and_hides_its_plaintext(cipher: FieldCipher) -> None:
    blob = cipher.encrypt("p1", "email", "ada@example.com")
    assert b"ada" not in blob
    assert blob[0] == VERSION
    assert len(blob) == 1 + 12 + len("ada@example.com") + 16
    assert cipher.decrypt("p1", "email", blob) == "ada@example.com"


def test_se1_each_encryption_uses_a_fresh_nonce(cipher: FieldCipher) -> None:
    first, second = (cipher.encrypt("p1", "name", "Ada") for _ in range(2))
    assert first != second
    assert first[1:13] != second[1:13]


def test_unicode_and_empty_values_round_trip(cipher: FieldCipher) -> None:
    for value in ("", "Zoë Ðoe 👩‍💻", "x" * 10_000):
        assert cipher.decrypt("p2", "name", cipher.encrypt("p2", "name", value)) == value


@pytest.mark.parametrize(
    ("person", "field"), [("p2", "email"), ("p1", "name")], ids=["other person", "other field"]
)
def test_se1_a_value_moved_to_another_person_or_field_fails(
    cipher: FieldCipher, person: str, field: str
) -> None:
    blob = cipher.encrypt("p1", "email", "ada@example.com")
    with pytest.raises(UnreadableValue, match="altered, or belongs to another person or field"):
        cipher.decrypt(person, field, blob)


def test_se1_moving_a_value_fails_even_under_one_shared_key() -> None:
    keys = FixedKeys()
    keys.keys["p2"] = keys.keys["p1"]
    cipher = FieldCipher(keys)
    with pytest.raises(UnreadableValue):
        cipher.decrypt("p2", "email", cipher.encrypt("p1", "email", "ada@example.com"))


@pytest.mark.parametrize("position", [0, 1, 13, -1])
def test_se1_any_altered_byte_fails_to_decrypt(cipher: FieldCipher, position: int) -> None:
    blob = bytearray(cipher.encrypt("p1", "email", "ada@example.com"))
    blob[position] ^= 0x01
    with pytest.raises(UnreadableValue) as caught:
        cipher.decrypt("p1", "email", bytes(blob))
    assert caught.value.message.startswith("the email of person p1 cannot be decrypted: ")


@pytest.mark.parametrize(
    "blob", [b"", bytes([VERSION]), bytes([VERSION]) + b"x" * 27, b"\x02" * 40]
)
def test_truncated_or_unknown_blobs_fail_clearly(cipher: FieldCipher, blob: bytes) -> None:
    with pytest.raises(UnreadableValue):
        cipher.decrypt("p1", "email", blob)


def test_a_memoryview_from_a_driver_is_accepted(cipher: FieldCipher) -> None:
    blob = cipher.encrypt("p1", "email", "ada@example.com")
    assert cipher.decrypt("p1", "email", memoryview(blob)) == "ada@example.com"  # type: ignore[arg-type]


@pytest.mark.parametrize("field", ["", "Email", "1st", "e mail", "x" * 65, "e\x00"])
def test_bad_field_names_are_refused(cipher: FieldCipher, field: str) -> None:
    with pytest.raises(BadRequest, match="field name"):
        cipher.encrypt("p1", field, "v")


def test_blind_index_matches_equal_values_after_normalizing(cipher: FieldCipher) -> None:
    index = cipher.blind_index("email", "ada@example.com")
    assert cipher.blind_index("email", "  Ada@EXAMPLE.com ") == index
    assert cipher.blind_index("email", "bob@example.com") != index
    assert len(index) == 64
    assert "ada" not in index


def test_blind_index_differs_per_field_and_per_index_key(cipher: FieldCipher) -> None:
    index = cipher.blind_index("email", "ada@example.com")
    assert cipher.blind_index("email_alt", "ada@example.com") != index
    other = FieldCipher(FixedKeys(index=b"j" * 32))
    assert other.blind_index("email", "ada@example.com") != index


def test_normalize_folds_case_width_and_spacing() -> None:
    assert normalize("  ＡＤＡ\t Lovelace ") == "ada lovelace"
    assert normalize("STRASSE") == normalize("straße")


def test_associated_data_parts_cannot_run_into_each_other() -> None:
    assert associated_data("ab", "c") != associated_data("a", "bc")
