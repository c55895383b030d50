"""Who is calling, and may they: the FastAPI dependencies every console page and API route uses.

The console is reached with the `troth_session` cookie, the admin API with
`Authorization: Bearer troth_...`. Every unsafe console request must carry the session's
CSRF token. The dependencies `public`, `signed_in`, `requires(action)` and
`requires_purpose(purpose, categories)` record what a route asks (troth.security.permissions).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from troth.audit.authorize import authorize, authorize_action
from troth.errors import Forbidden
from troth.policy.guard import Actor
from troth.policy.schema import Action
from troth.security import actors, api_tokens, sessions, users
from troth.security.clock import ClockDep
from troth.security.double_submit import CSRF_REFUSAL
from troth.security.models import ConsoleSession, ConsoleUser
from troth.security.permissions import Kind, Permission, mark
from troth.security.tokens import csrf_token, same
from troth.web.deps import RuntimeDep, SessionDep

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SIGN_IN_PATH = "/console/sign-in"


@dataclass(frozen=True)
class Principal:
    actor: Actor
    user: ConsoleUser | None = None
    console_session: ConsoleSession | None = None

    @property
    def csrf_token(self) -> str:
        if self.console_session is None:
            return ""
        return csrf_token(self.console_session.csrf_secret)


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _unauthenticated(request: Request, message: str) -> HTTPException:
    if is_api(request):
        return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})
    return HTTPException(303, "sign in first", headers={"Location": SIGN_IN_PATH})


def console_session(
    request: Request, session: SessionDep, clock: ClockDep
) -> ConsoleSession | None:
    """The signed-in console session of this request, if any (never one awaiting a code)."""
    value = request.cookies.get(sessions.COOKIE)
    if not value:
        return None
    found = sessions.find(session, value, clock())
    if found is None or found.awaiting_totp:
        return None
    return found


async def check_csrf(request: Request, found: ConsoleSession) -> None:
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        field = form.get(CSRF_FIELD)
        sent = field if isinstance(field, str) else ""
    if not same(sent, csrf_token(found.csrf_secret)):
        raise Forbidden(CSRF_REFUSAL)


async def current_principal(
    request: Request, runtime: RuntimeDep, session: SessionDep, clock: ClockDep
) -> Principal:
    # Load the declaration before this request's transaction begins: on SQLite, loading
    # it inside would open a second transaction that waits on the first.
    runtime.guard  # noqa: B018
    if is_api(request):
        return _bearer_principal(request, session, clock())
    found = console_session(request, session, clock)
    if found is None:
        raise _unauthenticated(request, "sign in first")
    user = users.get(session, found.user_id)
    if user.disabled:
        raise _unauthenticated(request, "sign in first")
    await check_csrf(request, found)
    return Principal(actor=actors.of_user(user), user=user, console_session=found)


def _bearer_principal(request: Request, session: SessionDep, now: dt.datetime) -> Principal:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise _unauthenticated(request, "an API token is required: Authorization: Bearer <token>")
    token = api_tokens.resolve(session, value.strip(), now)
    if token is None:
        raise _unauthenticated(request, "the API token is unknown or revoked")
    return Principal(actor=actors.of_token(token))


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def _public() -> None:
    """No one needs to be signed in (the sign-in page itself)."""


public = mark(_public, Permission(Kind.public))


def _signed_in(principal: PrincipalDep) -> Principal:
    return principal


signed_in = mark(_signed_in, Permission(Kind.signed_in))
SignedIn = Annotated[Principal, Depends(signed_in)]


def requires(action: Action) -> Callable[..., Principal]:
    """A dependency: the caller's role must be given `action`; asked and audited."""

    def dependency(principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep) -> Principal:
        authorize_action(session, runtime.guard, principal.actor, action)
        return principal

    return mark(dependency, Permission(Kind.action, action=action))


def requires_purpose(
    purpose: str, categories: Iterable[str], *, action: str = "read"
) -> Callable[..., Principal]:
    """A dependency: the caller's role must act for `purpose` over `categories`; audited."""
    wanted = tuple(sorted(categories))

    def dependency(principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep) -> Principal:
        authorize(session, runtime.guard, principal.actor, purpose, wanted, action=action)
        return principal

    return mark(dependency, Permission(Kind.purpose, purpose=purpose, categories=wanted))
