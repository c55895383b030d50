"""Personal fields encrypted under the person's data key, and blind indexes for exact look-ups.

A stored value is `version (1 byte) || nonce (12) || ciphertext || tag (16)`. The associated data
names the person and the field, so a value copied onto another person or field fails to decrypt.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from typing import Protocol

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from troth.errors import BadRequest
from troth.keys.aead import InvalidTag, associated_data, open_box, seal
from troth.keys.errors import UnreadableValue

VERSION = 1
_FIELD = re.compile(r"[a-z][a-z0-9_.]{0,63}")
_SPACES = re.compile(r"\s+")


class DataKeys(Protocol):
    def data_key(self, person_id: str) -> bytes: ...

    def index_key(self) -> bytes: ...


class FieldCipher:
    def __init__(self, keys: DataKeys) -> None:
        self._keys = keys
        self._index_keys: dict[str, bytes] = {}

    def encrypt(self, person_id: str, field: str, plaintext: str) -> bytes:
        check_field(field)
        key = self._keys.data_key(person_id)
        return bytes([VERSION]) + seal(key, plaintext.encode(), _aad(person_id, field))

    def decrypt(self, person_id: str, field: str, blob: bytes) -> str:
        check_field(field)
        blob = bytes(blob)  # drivers may hand back a memoryview
        if not blob or blob[0] != VERSION:
            raise UnreadableValue(person_id, field, "it is not in a known format")
        key = self._keys.data_key(person_id)
        try:
            return open_box(key, blob[1:], _aad(person_id, field)).decode()
        except InvalidTag:
            raise UnreadableValue(
                person_id, field, "it was altered, or belongs to another person or field"
            ) from None

    def blind_index(self, field: str, value: str) -> str:
        """A keyed hash of the normalized value: equal for equal values, useless without the key."""
        check_field(field)
        digest = hmac.new(self._index_key(field), normalize(value).encode(), hashlib.sha256)
        return digest.hexdigest()

    def _index_key(self, field: str) -> bytes:
        key = self._index_keys.get(field)
        if key is None:
            hkdf = HKDF(
                algorithm=hashes.SHA256(),
                length=32,
                salt=None,
                info=associated_data("troth blind index v1", field),
            )
            key = self._index_keys[field] = hkdf.derive(self._keys.index_key())
        return key


def normalize(value: str) -> str:
    """Case, Unicode form and spacing do not make two values different."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", value)).strip().casefold()


def check_field(field: str) -> None:
    if not _FIELD.fullmatch(field):
        raise BadRequest(
            f"field name {field!r}: lower-case letters, digits, _ and . (a letter first), "
            "at most 64"
        )


def _aad(person_id: str, field: str) -> bytes:
    return associated_data("troth field v1", person_id, field)
