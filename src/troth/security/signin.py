"""Signing in to the console: password, throttling, lockout and the second factor.

An unknown email and a wrong password give the same answer, after the same argon2 work.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.orm import Session

from troth.audit.service import record
from troth.security import passwords, sessions, throttle, totp, users
from troth.security.actors import user_actor_id
from troth.security.models import ConsoleSession, ConsoleUser

INVALID = "that email and password do not match an account"
LOCKED = "too many failed attempts; this account is locked for 15 minutes"
THROTTLED = "too many failed sign-in attempts from your address; try again later"
BAD_CODE = "that code is not right or was already used"


class Status(StrEnum):
    signed_in = "signed_in"
    needs_code = "needs_code"
    invalid = "invalid"
    locked = "locked"
    throttled = "throttled"


@dataclass(frozen=True)
class Result:
    status: Status
    cookie: str | None = None
    retry_after: int | None = None

    @property
    def message(self) -> str:
        return {
            Status.invalid: INVALID,
            Status.locked: LOCKED,
            Status.throttled: THROTTLED,
        }.get(self.status, "")


@dataclass(frozen=True)
class Attempt:
    email: str
    password: str
    client_ip: str
    now: dt.datetime
    lifetime: dt.timedelta


def sign_in(session: Session, attempt: Attempt) -> Result:
    keys = throttle.keys_for(attempt.email, attempt.client_ip)
    refusal = _refusal(session, keys, attempt.now)
    if refusal is not None:
        passwords.spend_equal_time(attempt.password)
        return refusal
    user = users.find_by_email(session, attempt.email)
    if user is None or user.disabled:
        passwords.spend_equal_time(attempt.password)
        return _failed(session, keys, attempt.now, None, "unknown or disabled account")
    if not passwords.verify(user.password_hash, attempt.password):
        return _failed(session, keys, attempt.now, user, "wrong password")
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(attempt.password)
    if user.totp_secret is not None:
        cookie = sessions.start(session, user, attempt.now, attempt.lifetime, awaiting_totp=True)
        return Result(Status.needs_code, cookie=cookie)
    return _succeeded(session, keys, user, attempt)


def second_factor(session: Session, pending: ConsoleSession, code: str, attempt: Attempt) -> Result:
    """The code step: `attempt` carries the address and time; its email and password are unused."""
    user = users.get(session, pending.user_id)
    keys = throttle.keys_for(user.email, attempt.client_ip)
    refusal = _refusal(session, keys, attempt.now)
    if refusal is not None:
        return refusal
    if user.disabled or not totp.accept(user, code, attempt.now):
        return _failed(session, keys, attempt.now, user, "wrong or reused code")
    session.delete(pending)
    return _succeeded(session, keys, user, attempt)


def _refusal(session: Session, keys: throttle.Keys, now: dt.datetime) -> Result | None:
    retry_after = throttle.address_retry_after(session, keys, now)
    if retry_after is not None:
        _audit(session, "anonymous", "denied", "address throttled")
        return Result(Status.throttled, retry_after=retry_after)
    if throttle.locked_until(session, keys, now) is not None:
        throttle.record_refused(session, keys, now)
        _audit(session, "anonymous", "denied", "account locked")
        return Result(Status.locked)
    return None


def _failed(
    session: Session,
    keys: throttle.Keys,
    now: dt.datetime,
    user: ConsoleUser | None,
    reason: str,
) -> Result:
    actor = user_actor_id(user.id) if user is not None else "anonymous"
    _audit(session, actor, "denied", reason)
    locked = throttle.record_failure(session, keys, now)
    if user is not None:
        user.failed_count += 1
        if locked is not None:
            user.locked_until = locked
    if locked is not None:
        _audit(session, actor, "denied", "account locked after repeated failures", "lockout")
        return Result(Status.locked)
    return Result(Status.invalid)


def _succeeded(
    session: Session, keys: throttle.Keys, user: ConsoleUser, attempt: Attempt
) -> Result:
    throttle.forget_failures(session, keys)
    user.failed_count = 0
    user.locked_until = None
    cookie = sessions.start(session, user, attempt.now, attempt.lifetime)
    _audit(session, user_actor_id(user.id), "allowed", "signed in")
    return Result(Status.signed_in, cookie=cookie)


def _audit(
    session: Session, actor: str, outcome: str, reason: str, action: str = "sign_in"
) -> None:
    record(session, actor=actor, action=f"console.{action}", outcome=outcome, reason=reason)
