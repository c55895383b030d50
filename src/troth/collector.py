"""How a serving process runs Python's cyclic garbage collector.

The ingester makes many short-lived objects per batch beside tens of thousands of long-lived
ones (open visits, the dicts and tuples of its sketches and blocks). With the default
thresholds a young collection ran every 700 allocations, and the older generations, which
those long-lived objects fill, were walked again every few batches: about a fifth of the
analytics work at ingest (bench/README.md measured the threshold; freezing adds little to it).
A collection now runs every 50,000 allocations. What start-up built, once its garbage is
collected, is frozen out of later walks.
"""

from __future__ import annotations

import gc

THRESHOLDS = (50_000, 20, 20)


def tune() -> None:
    """Call once a process has built what it keeps for its whole life."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
