"""A small LRU of unwrapped data keys whose entries also expire.

Expiry bounds how long another process that shares the key store keeps using a key this
process destroyed: a destroy here clears the entry at once, elsewhere within `seconds`.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class KeyCache:
    def __init__(
        self, size: int, seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._size = size
        self._seconds = seconds
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, name: str) -> bytes | None:
        with self._lock:
            entry = self._entries.get(name)
            if entry is None:
                return None
            if entry[0] <= self._clock():
                del self._entries[name]
                return None
            self._entries.move_to_end(name)
            return entry[1]

    def put(self, name: str, key: bytes) -> None:
        if self._size <= 0:
            return
        with self._lock:
            self._entries[name] = (self._clock() + self._seconds, key)
            self._entries.move_to_end(name)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def drop(self, name: str) -> None:
        with self._lock:
            self._entries.pop(name, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
