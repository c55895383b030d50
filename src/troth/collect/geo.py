"""The visitor's country from their IP address (CO3), with the database bundled in `iptocc`.

A lookup costs a fraction of a microsecond, so there is no cache. Private, loopback,
documentation and malformed addresses have no country and give "".
"""

from __future__ import annotations

import iptocc


def country_of(ip: str) -> str:
    """ISO 3166-1 alpha-2 code, upper-case, or "" when unknown."""
    if not ip:
        return ""
    try:
        return iptocc.country_code(ip) or ""
    except ValueError:
        return ""
