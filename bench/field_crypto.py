"""What encrypting and decrypting one personal field costs, beside a bare AES-GCM round trip.

Run: .venv/bin/python bench/field_crypto.py

Three cases on a 30-byte value: the bare AES-256-GCM encrypt+decrypt (the floor), FieldCipher with
the person's data key cached, and FieldCipher unwrapping the key from the key store every time
(an SQLite read and an AES-GCM unwrap per call, as after a cache miss).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import timeit
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from troth.keys import FieldCipher, KeyStore, MasterKey, MasterRing, RingSource

VALUE = "ada.lovelace@example.com, 1815"
ROUNDS, CALLS = 15, 2_000


def median_us(statement: object) -> float:
    runs = timeit.repeat(statement, number=CALLS, repeat=ROUNDS)  # type: ignore[arg-type]
    return statistics.median(runs) / CALLS * 1e6


def main() -> None:
    assert len(VALUE.encode()) == 30
    ring = RingSource(ring=MasterRing((MasterKey.generate(),)))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "keys" / "keystore.db"
        with KeyStore(path, ring) as cached, KeyStore(path, ring, cache_size=0) as uncached:
            cached.create_key("p1")
            warm, cold = FieldCipher(cached), FieldCipher(uncached)
            aead, aad = AESGCM(cached.data_key("p1")), b"p1/email"
            plaintext = VALUE.encode()

            def bare() -> bytes:
                nonce = os.urandom(12)
                return aead.decrypt(nonce, aead.encrypt(nonce, plaintext, aad), aad)

            cases = {
                "baseline: bare AES-GCM encrypt+decrypt": bare,
                "FieldCipher, data key cached": lambda: warm.decrypt(
                    "p1", "email", warm.encrypt("p1", "email", VALUE)
                ),
                "FieldCipher, key unwrapped each call": lambda: cold.decrypt(
                    "p1", "email", cold.encrypt("p1", "email", VALUE)
                ),
            }
            print(f"{'case (30-byte field)':<42} {'median µs per encrypt+decrypt':>30}")
            for name, fn in cases.items():
                print(f"{name:<42} {median_us(fn):>30.2f}")


if __name__ == "__main__":
    main()
