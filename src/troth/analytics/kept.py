"""What a process keeps of the dashboard's answers: least recently used first out, within a
byte budget and optionally a count. Shared by the request threads."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable


class Kept:
    def __init__(self, budget: int, most: int | None = None) -> None:
        self.budget, self.most = budget, most
        self._items: OrderedDict[Hashable, tuple[object, int, object]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable, tag: object = None) -> object | None:
        """The item kept under `key`, if it was put with this `tag` (compared by identity)."""
        with self._lock:
            found = self._items.get(key)
            if found is None or found[2] is not tag:
                return None
            self._items.move_to_end(key)
            return found[0]

    def put(self, key: Hashable, item: object, size: int, tag: object = None) -> None:
        """Keep `item` (or count its new size, when it is kept already)."""
        with self._lock:
            old = self._items.pop(key, None)
            self._bytes += size - (old[1] if old is not None else 0)
            self._items[key] = (item, size, tag)
            while len(self._items) > 1 and self._over():
                _, (_, freed, _) = self._items.popitem(last=False)
                self._bytes -= freed

    def _over(self) -> bool:
        return self._bytes > self.budget or (self.most is not None and len(self._items) > self.most)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def held(self) -> tuple[int, int]:
        """(items, bytes) kept now."""
        with self._lock:
            return len(self._items), self._bytes
