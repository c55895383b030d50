"""Sealing a message's address and values under the right data key.

Mail for a person is sealed under that person's key, so erasing them erases their mail.
Mail for someone Troth keeps no record of (a guardian's address) is sealed under the key
of a reserved owner, `system:mail`, made in the key store on first use. The field name
carries the message id, so a sealed value moved onto another message does not open.
"""

from __future__ import annotations

from contextlib import suppress

from troth.errors import Conflict, Unprocessable
from troth.keys import FieldCipher, KeyStore, NoPersonKey

SYSTEM_OWNER = "system:mail"
RESERVED_PREFIX = "system:"
ADDRESS_INDEX = "email"
"""Blind-index field of addresses, shared with the people domain so look-ups match."""


def key_owner(person_id: str | None) -> str:
    if person_id is None:
        return SYSTEM_OWNER
    if person_id.startswith(RESERVED_PREFIX):
        raise Unprocessable(f"person ids starting with '{RESERVED_PREFIX}' are reserved")
    return person_id


class Sealer:
    def __init__(self, keys: KeyStore) -> None:
        self._keys = keys
        self._cipher = FieldCipher(keys)

    def digest(self, address: str) -> str:
        return self._cipher.blind_index(ADDRESS_INDEX, address)

    def seal(self, owner: str, message_id: str, name: str, plaintext: str) -> bytes:
        field = _field(message_id, name)
        try:
            return self._cipher.encrypt(owner, field, plaintext)
        except NoPersonKey:
            if owner != SYSTEM_OWNER:
                raise
        self._create_system_key()
        return self._cipher.encrypt(owner, field, plaintext)

    def open(self, owner: str, message_id: str, name: str, blob: bytes) -> str:
        return self._cipher.decrypt(owner, _field(message_id, name), blob)

    def _create_system_key(self) -> None:
        with suppress(Conflict):  # another process made it first
            self._keys.create_key(SYSTEM_OWNER)


def _field(message_id: str, name: str) -> str:
    return f"message.{message_id}.{name}"
