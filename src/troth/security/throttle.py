"""Throttling of sign-in: an account locks after repeated failures, an address slows down.

Attempts are keyed by hashes of the email and the client address, never the values.
An email nobody has locks exactly like a real account, so the lock reveals nothing.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from troth.security.clock import aware
from troth.security.models import SignInAttempt
from troth.security.tokens import pseudonym

WINDOW = dt.timedelta(minutes=15)
LOCK = dt.timedelta(minutes=15)
ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20

FAILURE = "failure"
REFUSED = "refused"
LOCKOUT = "lockout"


@dataclass(frozen=True)
class Keys:
    email_hash: str
    ip_hash: str


def keys_for(email: str, client_ip: str) -> Keys:
    return Keys(pseudonym("email", email.strip().lower()), pseudonym("ip", client_ip))


def address_retry_after(session: Session, keys: Keys, now: dt.datetime) -> int | None:
    """Seconds until this address may try again, or None while it is under the limit."""
    times = session.scalars(
        select(SignInAttempt.at)
        .where(
            SignInAttempt.ip_hash == keys.ip_hash,
            SignInAttempt.kind.in_((FAILURE, REFUSED)),
            SignInAttempt.at > now - WINDOW,
        )
        .order_by(SignInAttempt.at.desc())
        .limit(ADDRESS_LIMIT)
    ).all()
    if len(times) < ADDRESS_LIMIT:
        return None
    free_at = aware(times[-1]) + WINDOW
    return max(1, math.ceil((free_at - now).total_seconds()))


def locked_until(session: Session, keys: Keys, now: dt.datetime) -> dt.datetime | None:
    last = _last_lockout(session, keys)
    if last is None or last + LOCK <= now:
        return None
    return last + LOCK


def _last_lockout(session: Session, keys: Keys) -> dt.datetime | None:
    last = session.scalar(
        select(func.max(SignInAttempt.at)).where(
            SignInAttempt.email_hash == keys.email_hash, SignInAttempt.kind == LOCKOUT
        )
    )
    return aware(last) if last is not None else None


def record_failure(session: Session, keys: Keys, now: dt.datetime) -> dt.datetime | None:
    """Count a failed attempt; return when the account is locked until, if this locks it."""
    _prune(session, now)
    _add(session, keys, now, FAILURE)
    since = now - WINDOW
    last = _last_lockout(session, keys)
    if last is not None and last > since:
        since = last
    failures = session.scalar(
        select(func.count()).where(
            SignInAttempt.email_hash == keys.email_hash,
            SignInAttempt.kind == FAILURE,
            SignInAttempt.at > since,
        )
    )
    if (failures or 0) < ACCOUNT_LIMIT:
        return None
    _add(session, keys, now, LOCKOUT)
    return now + LOCK


def record_refused(session: Session, keys: Keys, now: dt.datetime) -> None:
    """An attempt while locked: it counts against the address, not the account."""
    _prune(session, now)
    _add(session, keys, now, REFUSED)


def forget_failures(session: Session, keys: Keys) -> None:
    session.execute(
        delete(SignInAttempt).where(
            SignInAttempt.email_hash == keys.email_hash, SignInAttempt.kind == FAILURE
        )
    )


def _add(session: Session, keys: Keys, now: dt.datetime, kind: str) -> None:
    session.add(SignInAttempt(at=now, email_hash=keys.email_hash, ip_hash=keys.ip_hash, kind=kind))
    session.flush()


def _prune(session: Session, now: dt.datetime) -> None:
    session.execute(delete(SignInAttempt).where(SignInAttempt.at < now - WINDOW - LOCK))
