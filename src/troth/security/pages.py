"""Console pages for managing users and API tokens, and for one's own account."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from troth.errors import TrothError
from troth.policy.schema import Action
from troth.runtime import Runtime
from troth.security import api_tokens, sessions, users
from troth.security.clock import ClockDep
from troth.security.deps import Principal, SignedIn, requires
from troth.web.console import FormText, page
from troth.web.deps import RuntimeDep, SessionDep

router = APIRouter(prefix="/console", include_in_schema=False)

ManagesUsers = Annotated[Principal, Depends(requires(Action.manage_users))]


def _users_page(
    request: Request,
    runtime: Runtime,
    principal: Principal,
    session: SessionDep,
    extra: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "users": users.all_users(session),
        "roles": sorted(runtime.declaration.roles),
        "error": None,
        **(extra or {}),
    }
    return page(request, runtime, principal, "console/users.html", context, status_code)


@router.get("/users", response_class=HTMLResponse)
def users_page(
    request: Request, principal: ManagesUsers, runtime: RuntimeDep, session: SessionDep
) -> HTMLResponse:
    return _users_page(request, runtime, principal, session)


@router.post("/users", response_class=HTMLResponse)
def add_user(
    request: Request,
    principal: ManagesUsers,
    runtime: RuntimeDep,
    session: SessionDep,
    clock: ClockDep,
    email: FormText = "",
    role: FormText = "",
    password: FormText = "",
    password_again: FormText = "",
) -> Response:
    try:
        if password != password_again:
            raise TrothError("the two passwords differ")
        users.create(
            session,
            runtime.declaration,
            principal.actor,
            email=email,
            role=role,
            password=password,
            now=clock(),
        )
    except TrothError as exc:
        error = {"error": exc.message}
        return _users_page(request, runtime, principal, session, error, exc.status_code)
    return RedirectResponse("/console/users", status_code=303)


@router.post("/users/{user_id}/disable")
def disable_user(user_id: int, principal: ManagesUsers, session: SessionDep) -> RedirectResponse:
    users.disable(session, principal.actor, users.get(session, user_id))
    return RedirectResponse("/console/users", status_code=303)


def _tokens_page(
    request: Request,
    runtime: Runtime,
    principal: Principal,
    session: SessionDep,
    extra: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "tokens": api_tokens.all_tokens(session),
        "roles": sorted(runtime.declaration.roles),
        "error": None,
        "new_token": None,
        **(extra or {}),
    }
    return page(request, runtime, principal, "console/tokens.html", context, status_code)


@router.get("/tokens", response_class=HTMLResponse)
def tokens_page(
    request: Request, principal: ManagesUsers, runtime: RuntimeDep, session: SessionDep
) -> HTMLResponse:
    return _tokens_page(request, runtime, principal, session)


@router.post("/tokens", response_class=HTMLResponse)
def create_token(
    request: Request,
    principal: ManagesUsers,
    runtime: RuntimeDep,
    session: SessionDep,
    clock: ClockDep,
    name: FormText = "",
    role: FormText = "",
) -> HTMLResponse:
    try:
        _, value = api_tokens.create(
            session, runtime.declaration, principal.actor, name=name, role=role, now=clock()
        )
    except TrothError as exc:
        error = {"error": exc.message}
        return _tokens_page(request, runtime, principal, session, error, exc.status_code)
    return _tokens_page(request, runtime, principal, session, {"new_token": value})


@router.post("/tokens/{token_id}/revoke")
def revoke_token(
    token_id: int, principal: ManagesUsers, session: SessionDep, clock: ClockDep
) -> RedirectResponse:
    api_tokens.revoke(session, principal.actor, token_id, clock())
    return RedirectResponse("/console/tokens", status_code=303)


def _account_page(
    request: Request,
    runtime: Runtime,
    principal: SignedIn,
    extra: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {"error": None, "notice": None, "totp": None, **(extra or {})}
    return page(request, runtime, principal, "console/account.html", context, status_code)


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, principal: SignedIn, runtime: RuntimeDep) -> HTMLResponse:
    return _account_page(request, runtime, principal)


@router.post("/account/password", response_class=HTMLResponse)
def change_password(
    request: Request,
    principal: SignedIn,
    runtime: RuntimeDep,
    session: SessionDep,
    current: FormText = "",
    password: FormText = "",
    password_again: FormText = "",
) -> HTMLResponse:
    assert principal.user is not None
    try:
        if password != password_again:
            raise TrothError("the two new passwords differ")
        users.change_password(
            session,
            runtime.declaration,
            principal.actor,
            principal.user,
            current=current,
            new=password,
        )
        if principal.console_session is not None:
            keep = principal.console_session.token_hash
            sessions.end_all(session, principal.user.id, keep_hash=keep)
    except TrothError as exc:
        return _account_page(request, runtime, principal, {"error": exc.message}, exc.status_code)
    return _account_page(request, runtime, principal, {"notice": "Your password was changed."})


@router.post("/account/totp", response_class=HTMLResponse)
def enrol_totp(
    request: Request, principal: SignedIn, runtime: RuntimeDep, session: SessionDep
) -> HTMLResponse:
    assert principal.user is not None
    secret, uri = users.enrol_totp(session, principal.actor, principal.user)
    return _account_page(request, runtime, principal, {"totp": {"secret": secret, "uri": uri}})
