"""Wrapping data keys under a master key. The associated data names the owner and the master,
so a wrapped key copied onto another person's row does not open."""

from __future__ import annotations

from troth.keys.aead import InvalidTag, associated_data, open_box, seal
from troth.keys.errors import WrongMasterKey
from troth.keys.ring import MasterKey, MasterRing

FOR_PERSON = "troth person key v1"
FOR_STORE = "troth store secret v1"


def wrap(kind: str, owner: str, master: MasterKey, key: bytes) -> bytes:
    return seal(master.key, key, associated_data(kind, owner, master.id))


def unwrap(kind: str, owner: str, ring: MasterRing, master_key_id: str, wrapped: bytes) -> bytes:
    """The data key; WrongMasterKey when the ring lacks that master or it does not open."""
    master = ring.get(master_key_id)
    if master is None:
        raise WrongMasterKey
    try:
        return open_box(master.key, wrapped, associated_data(kind, owner, master.id))
    except InvalidTag:
        raise WrongMasterKey from None
