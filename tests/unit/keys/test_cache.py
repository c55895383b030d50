"""The unwrapped-key cache: least recently used goes first, and entries expire."""

from __future__ import annotations

from troth.keys.cache import KeyCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_least_recently_used_entry_is_evicted() -> None:
    cache = KeyCache(size=2, seconds=60, clock=Clock())
    cache.put("a", b"A")
    cache.put("b", b"B")
    assert cache.get("a") == b"A"
    cache.put("c", b"C")
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (b"A", None, b"C")


def test_entries_expire() -> None:
    clock = Clock()
    cache = KeyCache(size=8, seconds=30, clock=clock)
    cache.put("a", b"A")
    clock.now = 29.9
    assert cache.get("a") == b"A"
    clock.now = 30.0
    assert cache.get("a") is None


def test_drop_clear_and_a_zero_size_cache_hold_nothing() -> None:
    cache = KeyCache(size=8, seconds=30, clock=Clock())
    cache.put("a", b"A")
    cache.put("b", b"B")
    cache.drop("a")
    assert cache.get("a") is None
    cache.clear()
    assert cache.get("b") is None
    empty = KeyCache(size=0, seconds=30)
    empty.put("a", b"A")
    assert empty.get("a") is None
