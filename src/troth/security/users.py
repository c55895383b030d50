"""Console users: create, list, disable, change a password, enrol a second factor."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pyotp
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from troth.audit.service import record
from troth.errors import Conflict, NotFound, Unprocessable
from troth.policy.guard import Actor
from troth.policy.schema import Declaration
from troth.security import passwords, sessions
from troth.security.actors import user_actor_id
from troth.security.models import ConsoleUser

TOTP_ISSUER = "Troth"


def normalize_email(email: str) -> str:
    try:
        checked = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise Unprocessable("that is not a valid email address") from None
    return checked.normalized.lower()


def check_role(declaration: Declaration, role: str) -> None:
    if role not in declaration.roles:
        declared = ", ".join(sorted(declaration.roles))
        raise Unprocessable(f"unknown role '{role}'; the declaration has: {declared}")


def find_by_email(session: Session, email: str) -> ConsoleUser | None:
    return session.scalar(select(ConsoleUser).where(ConsoleUser.email == email.strip().lower()))


def get(session: Session, user_id: int) -> ConsoleUser:
    user = session.get(ConsoleUser, user_id)
    if user is None:
        raise NotFound(f"no console user {user_id}")
    return user


def all_users(session: Session) -> Sequence[ConsoleUser]:
    return session.scalars(select(ConsoleUser).order_by(ConsoleUser.email)).all()


def create(
    session: Session,
    declaration: Declaration,
    actor: Actor,
    *,
    email: str,
    role: str,
    password: str,
    now: dt.datetime,
) -> ConsoleUser:
    email = normalize_email(email)
    check_role(declaration, role)
    passwords.require_acceptable(password, email, declaration.security.console_password_min_length)
    if find_by_email(session, email) is not None:
        raise Conflict("a console user with that email already exists")
    user = ConsoleUser(
        email=email,
        role=role,
        password_hash=passwords.hash_password(password),
        failed_count=0,
        created_at=now,
        disabled=False,
    )
    session.add(user)
    session.flush()
    _audit(session, actor, "console_user.create", user, f"created with role {role}")
    return user


def disable(session: Session, actor: Actor, user: ConsoleUser) -> None:
    user.disabled = True
    sessions.end_all(session, user.id)
    _audit(session, actor, "console_user.disable", user, "disabled; sessions ended")


def change_password(
    session: Session,
    declaration: Declaration,
    actor: Actor,
    user: ConsoleUser,
    *,
    current: str,
    new: str,
) -> None:
    if not passwords.verify(user.password_hash, current):
        raise Unprocessable("the current password is not right")
    passwords.require_acceptable(new, user.email, declaration.security.console_password_min_length)
    user.password_hash = passwords.hash_password(new)
    _audit(session, actor, "console_user.password", user, "password changed")


def enrol_totp(session: Session, actor: Actor, user: ConsoleUser) -> tuple[str, str]:
    """Give the user a new TOTP secret; return it and its otpauth URI (shown once)."""
    secret = pyotp.random_base32()
    user.totp_secret = secret
    user.totp_last_counter = None
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=TOTP_ISSUER)
    _audit(session, actor, "console_user.totp", user, "second factor enrolled")
    return secret, uri


def _audit(session: Session, actor: Actor, action: str, user: ConsoleUser, reason: str) -> None:
    record(
        session,
        actor=actor.id,
        action=action,
        outcome="allowed",
        reason=reason,
        subject_id=user_actor_id(user.id),
    )
