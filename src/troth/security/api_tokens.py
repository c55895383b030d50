"""API tokens: scoped to one role, shown once at creation, stored as a hash, revocable."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from troth.audit.service import record
from troth.errors import NotFound, Unprocessable
from troth.policy.guard import Actor
from troth.policy.schema import Declaration
from troth.security.clock import aware
from troth.security.models import ApiToken
from troth.security.tokens import API_TOKEN_PREFIX, fingerprint, new_api_token
from troth.security.users import check_role

NAME_LIMIT = 100
TOUCH_EVERY = dt.timedelta(minutes=1)


def create(
    session: Session,
    declaration: Declaration,
    actor: Actor,
    *,
    name: str,
    role: str,
    now: dt.datetime,
) -> tuple[ApiToken, str]:
    """Make a token; return it with its secret value, which is not kept anywhere."""
    name = name.strip()
    if not name or len(name) > NAME_LIMIT:
        raise Unprocessable(f"a token needs a name of 1 to {NAME_LIMIT} characters")
    check_role(declaration, role)
    value = new_api_token()
    token = ApiToken(
        name=name, role=role, token_hash=fingerprint(value), created_by=actor.id, created_at=now
    )
    session.add(token)
    session.flush()
    _audit(session, actor, "api_token.create", token, f"created for role {role}")
    return token, value


def all_tokens(session: Session) -> Sequence[ApiToken]:
    return session.scalars(select(ApiToken).order_by(ApiToken.id)).all()


def revoke(session: Session, actor: Actor, token_id: int, now: dt.datetime) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"no API token {token_id}")
    if token.revoked_at is None:
        token.revoked_at = now
        _audit(session, actor, "api_token.revoke", token, "revoked")
    return token


def resolve(session: Session, value: str, now: dt.datetime) -> ApiToken | None:
    """The live token a bearer value stands for, or None."""
    if not value.startswith(API_TOKEN_PREFIX):
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == fingerprint(value)))
    if token is None or token.revoked_at is not None:
        return None
    last = token.last_used_at
    if last is None or now - aware(last) >= TOUCH_EVERY:
        token.last_used_at = now
    return token


def _audit(session: Session, actor: Actor, action: str, token: ApiToken, reason: str) -> None:
    record(
        session,
        actor=actor.id,
        action=action,
        outcome="allowed",
        reason=reason,
        subject_id=f"api_token:{token.id}",
    )
