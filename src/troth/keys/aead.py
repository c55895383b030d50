"""AES-256-GCM with a fresh 96-bit nonce, and associated data that names what a value belongs to."""

from __future__ import annotations

import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12
TAG_BYTES = 16

__all__ = ["NONCE_BYTES", "TAG_BYTES", "InvalidTag", "associated_data", "open_box", "seal"]


def associated_data(*parts: str) -> bytes:
    """Length-prefixed parts, so ("ab", "c") and ("a", "bc") can never collide."""
    out = bytearray()
    for part in parts:
        raw = part.encode()
        out += struct.pack(">H", len(raw)) + raw
    return bytes(out)


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """nonce || ciphertext || tag."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def open_box(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    """The plaintext of `seal`; raises InvalidTag on any alteration or a wrong key or context."""
    if len(sealed) < NONCE_BYTES + TAG_BYTES:
        raise InvalidTag
    return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)
