"""Console sessions: a random cookie value, stored only as its sha256."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete
from sqlalchemy.orm import Session

from troth.security.clock import aware
from troth.security.models import ConsoleSession, ConsoleUser
from troth.security.tokens import fingerprint, new_secret

COOKIE = "troth_session"
SECOND_FACTOR_TIME = dt.timedelta(minutes=5)
TOUCH_EVERY = dt.timedelta(minutes=1)


def start(
    session: Session,
    user: ConsoleUser,
    now: dt.datetime,
    lifetime: dt.timedelta,
    *,
    awaiting_totp: bool = False,
) -> str:
    """Open a session and return the cookie value (shown to the browser, never stored)."""
    value = new_secret()
    session.add(
        ConsoleSession(
            token_hash=fingerprint(value),
            user_id=user.id,
            created_at=now,
            expires_at=now + (SECOND_FACTOR_TIME if awaiting_totp else lifetime),
            last_seen=now,
            csrf_secret=new_secret(),
            awaiting_totp=awaiting_totp,
        )
    )
    session.flush()
    return value


def find(session: Session, value: str, now: dt.datetime) -> ConsoleSession | None:
    """The live session for a cookie value; an expired one is removed."""
    found = session.get(ConsoleSession, fingerprint(value))
    if found is None:
        return None
    if aware(found.expires_at) <= now:
        session.delete(found)
        session.flush()
        return None
    if now - aware(found.last_seen) >= TOUCH_EVERY:
        found.last_seen = now
    return found


def end(session: Session, value: str) -> None:
    session.execute(delete(ConsoleSession).where(ConsoleSession.token_hash == fingerprint(value)))


def end_all(session: Session, user_id: int, *, keep_hash: str | None = None) -> None:
    """Sign a user out everywhere (but for the session whose token hash is `keep_hash`)."""
    query = delete(ConsoleSession).where(ConsoleSession.user_id == user_id)
    if keep_hash is not None:
        query = query.where(ConsoleSession.token_hash != keep_hash)
    session.execute(query)
