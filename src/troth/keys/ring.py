"""The master key ring: one or more 256-bit master keys with ids, newest first.

Text form, for the ring file and for TROTH_MASTER_KEY alike: entries `ID:BASE64KEY` separated by
new lines, spaces or commas, newest first; lines starting with `#` are comments. A bare
`BASE64KEY` (convenient in an environment variable) gets an id derived from the key itself.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

from troth.errors import BadRequest

KEY_BYTES = 32
_ID = re.compile(r"[A-Za-z0-9_.-]{1,40}")
_SEPARATORS = re.compile(r"[\s,]+")


@dataclass(frozen=True)
class MasterKey:
    id: str
    key: bytes

    def __repr__(self) -> str:
        return f"MasterKey(id={self.id!r})"

    @classmethod
    def generate(cls) -> MasterKey:
        now = dt.datetime.now(dt.UTC)
        return cls(
            id=f"m{now:%Y%m%d%H%M%S}{secrets.token_hex(2)}", key=secrets.token_bytes(KEY_BYTES)
        )

    def entry(self) -> str:
        return f"{self.id}:{base64.b64encode(self.key).decode()}"


@dataclass(frozen=True)
class MasterRing:
    keys: tuple[MasterKey, ...]

    def __post_init__(self) -> None:
        if not self.keys:
            raise BadRequest("the master key ring is empty")
        ids = [key.id for key in self.keys]
        if len(set(ids)) != len(ids):
            raise BadRequest("the master key ring names the same key id twice")

    @property
    def newest(self) -> MasterKey:
        return self.keys[0]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(key.id for key in self.keys)

    def get(self, key_id: str) -> MasterKey | None:
        return next((key for key in self.keys if key.id == key_id), None)

    def prepend(self, key: MasterKey) -> MasterRing:
        return MasterRing((key, *self.keys))

    def only_newest(self) -> MasterRing:
        return MasterRing((self.newest,))

    def text(self) -> str:
        header = (
            "# Troth master key ring, newest first. Keep it apart from the data and its backups:\n"
            "# without it no personal field can be read.\n"
        )
        return header + "".join(f"{key.entry()}\n" for key in self.keys)


def parse_ring(text: str, source: str) -> MasterRing:
    """Read a ring; errors name the source and the entry, never the key material."""
    lines = (line for line in text.splitlines() if not line.lstrip().startswith("#"))
    entries = [part for line in lines for part in _SEPARATORS.split(line) if part]
    if not entries:
        raise BadRequest(f"{source}: no master key in it")
    return MasterRing(tuple(_parse_entry(entry, n, source) for n, entry in enumerate(entries, 1)))


def _parse_entry(entry: str, number: int, source: str) -> MasterKey:
    key_id, sep, encoded = entry.rpartition(":")
    if sep and not _ID.fullmatch(key_id):
        raise BadRequest(f"{source}: entry {number}: a key id is 1-40 letters, digits, _ . or -")
    key = _decode(encoded, f"{source}: entry {number}")
    return MasterKey(id=key_id if sep else fingerprint(key), key=key)


def _decode(encoded: str, where: str) -> bytes:
    try:
        key = base64.b64decode(encoded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest(f"{where}: the key is not base64") from None
    if len(key) != KEY_BYTES:
        raise BadRequest(f"{where}: the key is {len(key)} bytes; a master key is {KEY_BYTES}")
    return key


def fingerprint(key: bytes) -> str:
    """A stable id for a key given without one; it reveals nothing usable about the key."""
    return "k" + hashlib.sha256(b"troth master key id\x00" + key).hexdigest()[:12]
