"""The visitor's preferred language from Accept-Language (CO3), as a primary tag like "de"."""

from __future__ import annotations

import re
from functools import lru_cache

_PRIMARY = re.compile(r"[a-z]{2,3}")
MAX_HEADER = 256


@lru_cache(maxsize=1024)
def preferred_language(accept_language: str) -> str:
    """The highest-weighted language's primary subtag, lower-case; "" if none is usable.

    Ties keep header order; "*", q=0 and malformed entries are skipped.
    """
    best, best_q = "", 0.0
    for item in accept_language[:MAX_HEADER].split(","):
        tag, _, params = item.partition(";")
        primary = tag.strip().split("-", 1)[0].lower()
        if not _PRIMARY.fullmatch(primary):
            continue
        q = _quality(params)
        if q > best_q:
            best, best_q = primary, q
    return best


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                q = float(value)
            except ValueError:
                return 0.0
            return q if 0.0 <= q <= 1.0 else 0.0
    return 1.0
