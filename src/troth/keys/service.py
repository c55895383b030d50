"""Opening the key store from settings, and rotating the master key without downtime."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from troth.config import Settings
from troth.keys.files import key_store_path, ring_source, write_ring_file
from troth.keys.ring import MasterKey, MasterRing
from troth.keys.store import KeyStore


def open_key_store(
    settings: Settings, *, cache_size: int = 1024, cache_seconds: float = 60.0
) -> KeyStore:
    source = ring_source(settings)
    source.current()  # no ring, no store: fail before creating any file
    return KeyStore(
        key_store_path(settings), source, cache_size=cache_size, cache_seconds=cache_seconds
    )


@dataclass(frozen=True)
class Rotation:
    rewrapped: int
    newest: str
    dropped: tuple[str, ...]
    """Master ids removed from the ring file; empty when the ring comes from the environment."""


def rotate_master(
    store: KeyStore, batch_size: int = 500, on_batch: Callable[[int], None] | None = None
) -> Rotation:
    """Put a new master key first in the ring file, re-wrap every key under it, then drop the
    older masters, only once no key is wrapped under them.

    A ring from TROTH_MASTER_KEY cannot be rewritten: keys are re-wrapped under its first
    entry, and the operator removes the older entries from the variable afterwards.
    """
    store.check_ring()
    path = store.ring.path
    if path is None:
        newest = store.ring.current().newest.id
        return Rotation(store.rotate(batch_size, on_batch), newest, ())
    old = store.ring.current()
    new = MasterKey.generate()
    write_ring_file(path, old.prepend(new))
    done = store.rotate(batch_size, on_batch)
    while True:
        with store.locked() as behind:
            if not behind:
                write_ring_file(path, MasterRing((new,)))
                return Rotation(done, new.id, old.ids)
        done += store.rotate(batch_size, on_batch)
