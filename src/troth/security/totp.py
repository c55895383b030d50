"""TOTP codes (RFC 6238) with one step of drift either way, each code accepted only once."""

from __future__ import annotations

import datetime as dt

import pyotp

from troth.security.models import ConsoleUser
from troth.security.tokens import same

DRIFT = 1
"""Time steps accepted either side of now, as pyotp's valid_window=1."""


def accept(user: ConsoleUser, code: str, now: dt.datetime) -> bool:
    """True and remember the step when the code is right and newer than the last one used."""
    if user.totp_secret is None:
        return False
    code = code.strip().replace(" ", "")
    totp = pyotp.TOTP(user.totp_secret)
    current = totp.timecode(now)
    for step in range(current - DRIFT, current + DRIFT + 1):
        if same(totp.generate_otp(step), code):
            if user.totp_last_counter is not None and step <= user.totp_last_counter:
                return False
            user.totp_last_counter = step
            return True
    return False
