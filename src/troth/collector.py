"""How a serving process runs Python's cyclic garbage collector.

The ingester holds tens of thousands of long-lived objects (open visits, sketches, the
strings of visit columns) and makes many short-lived ones per batch. With the default
thresholds the collector ran every 700 allocations and walked the long-lived ones again and
again: about a fifth of the analytics work at ingest (bench/README.md). What start-up built is
frozen out of its walks, and a collection runs every 50,000 allocations instead.
"""

from __future__ import annotations

import gc

THRESHOLDS = (50_000, 20, 20)


def tune() -> None:
    """Call once a process has built what it keeps for its whole life."""
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
