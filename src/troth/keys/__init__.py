"""Per-person data keys, field encryption and crypto-shredding.

The master ring (a 0600 file or TROTH_MASTER_KEY) wraps each person's data key; the wrapped
keys live in a key store beside, not inside, the data directory; fields are AES-256-GCM under
the person's key. Destroying a key erases the person from every copy of the data.
"""

from troth.keys.errors import KeyDestroyed, NoPersonKey, UnreadableValue, WrongMasterKey
from troth.keys.fields import FieldCipher
from troth.keys.files import RingSource, ensure_master_key
from troth.keys.ring import MasterKey, MasterRing, parse_ring
from troth.keys.service import Rotation, open_key_store, rotate_master
from troth.keys.store import KeyStore

__all__ = [
    "FieldCipher",
    "KeyDestroyed",
    "KeyStore",
    "MasterKey",
    "MasterRing",
    "NoPersonKey",
    "RingSource",
    "Rotation",
    "UnreadableValue",
    "WrongMasterKey",
    "ensure_master_key",
    "open_key_store",
    "parse_ring",
    "rotate_master",
]
