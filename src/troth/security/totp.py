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
    step = fresh_step(user.totp_secret, code, now, user.totp_last_counter)
    if step is None:
        return False
    user.totp_last_counter = step
    return True


def fresh_step(secret: str, code: str, now: dt.datetime, last_step: int | None) -> int | None:
    """The time step `code` belongs to, when it is right and newer than `last_step`."""
    code = code.strip().replace(" ", "")
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - DRIFT, current + DRIFT + 1):
        if same(totp.generate_otp(step), code):
            return None if last_step is not None and step <= last_step else step
    return None
