"""The console's front door: sign-in (password, then a code when enrolled), sign-out, overview."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from troth.errors import Forbidden
from troth.jobs.queue import counts
from troth.policy import service as policy_service
from troth.policy.schema import Action
from troth.runtime import Runtime
from troth.security import cookies, sessions, signin
from troth.security.clock import ClockDep
from troth.security.deps import SIGN_IN_PATH, Principal, SignedIn, public
from troth.security.double_submit import CSRF_REFUSAL
from troth.security.models import ConsoleSession
from troth.security.tokens import csrf_token, same
from troth.web.deps import RuntimeDep, SessionDep
from troth.web.templating import templates

router = APIRouter(prefix="/console", include_in_schema=False)
PUBLIC = [Depends(public)]

CODE_PATH = "/console/sign-in/code"
HOME = "/console/"
NAV = [
    ("/console/", "Overview", None),
    ("/console/analytics", "Analytics", Action.view_analytics),
    ("/console/people", "People", Action.manage_people),
    ("/console/users", "Users", Action.manage_users),
    ("/console/tokens", "API tokens", Action.manage_users),
    ("/console/consent", "Consent", Action.view_analytics),
    ("/console/account", "Account", None),
]

FormText = Annotated[str, Form(max_length=1024)]


def page(
    request: Request,
    runtime: Runtime,
    principal: Principal,
    template: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """A console page with the signed-in user, the links their role may use and a CSRF token."""
    guard = runtime.guard
    nav = [
        (href, label)
        for href, label, action in NAV
        if action is None or guard.may(principal.actor, action)
    ]
    full = {"user": principal.user, "nav": nav, "csrf_token": principal.csrf_token}
    full.update(context or {})
    return templates.TemplateResponse(request, template, full, status_code=status_code)


@router.get("", dependencies=PUBLIC)
def console_root() -> RedirectResponse:
    return RedirectResponse(HOME, status_code=303)


@router.get("/", response_class=HTMLResponse)
def overview(
    request: Request, principal: SignedIn, runtime: RuntimeDep, session: SessionDep
) -> HTMLResponse:
    latest = policy_service.latest(session)
    context = {
        "role": principal.user.role if principal.user else "",
        "purposes": runtime.guard.purposes_for(principal.actor),
        "policy_version": latest,
        "job_counts": {str(status): count for status, count in counts(session).items()},
    }
    return page(request, runtime, principal, "console/overview.html", context)


def _sign_in_form(
    request: Request, runtime: Runtime, error: str | None, status_code: int = 200
) -> HTMLResponse:
    token = cookies.SIGN_IN_CSRF.token(request)
    response = templates.TemplateResponse(
        request,
        "console/sign_in.html",
        {"user": None, "error": error, "csrf_token": token},
        status_code=status_code,
    )
    cookies.SIGN_IN_CSRF.set(response, runtime.settings, token)
    return response


@router.get("/sign-in", response_class=HTMLResponse, dependencies=PUBLIC)
def sign_in_page(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    return _sign_in_form(request, runtime, None)


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _attempt(
    request: Request, runtime: Runtime, now: dt.datetime, email: str = "", password: str = ""
) -> signin.Attempt:
    lifetime = dt.timedelta(hours=runtime.settings.session_hours)
    return signin.Attempt(email, password, _client_ip(request), now, lifetime)


@router.post("/sign-in", response_class=HTMLResponse, dependencies=PUBLIC)
def sign_in(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    clock: ClockDep,
    email: FormText = "",
    password: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    cookies.SIGN_IN_CSRF.check(request, csrf_token)
    result = signin.sign_in(session, _attempt(request, runtime, clock(), email, password))
    return _after_attempt(request, runtime, result)


def _after_attempt(request: Request, runtime: Runtime, result: signin.Result) -> Response:
    if result.status is signin.Status.throttled:
        response = _sign_in_form(request, runtime, result.message, 429)
        response.headers["Retry-After"] = str(result.retry_after)
        return response
    if result.cookie is None:
        return _sign_in_form(request, runtime, result.message, 401)
    target = CODE_PATH if result.status is signin.Status.needs_code else HOME
    redirect = RedirectResponse(target, status_code=303)
    cookies.set_session(redirect, runtime.settings, result.cookie)
    return redirect


@router.get("/sign-in/code", response_class=HTMLResponse, dependencies=PUBLIC)
def code_page(request: Request, session: SessionDep, clock: ClockDep) -> Response:
    pending = _pending(request, session, clock)
    if pending is None:
        return RedirectResponse(SIGN_IN_PATH, status_code=303)
    token = csrf_token(pending.csrf_secret)
    return templates.TemplateResponse(
        request, "console/sign_in_code.html", {"user": None, "error": None, "csrf_token": token}
    )


def _pending(request: Request, session: SessionDep, clock: ClockDep) -> ConsoleSession | None:
    found = sessions.find(session, request.cookies.get(sessions.COOKIE, ""), clock())
    return found if found is not None and found.awaiting_totp else None


@router.post("/sign-in/code", response_class=HTMLResponse, dependencies=PUBLIC)
def code_step(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    clock: ClockDep,
    code: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    pending = _pending(request, session, clock)
    if pending is None:
        return RedirectResponse(SIGN_IN_PATH, status_code=303)
    if not same(csrf_token, _csrf_of(pending)):
        raise Forbidden(CSRF_REFUSAL)
    result = signin.second_factor(session, pending, code, _attempt(request, runtime, clock()))
    if result.cookie is not None or result.status is not signin.Status.invalid:
        return _after_attempt(request, runtime, result)
    return templates.TemplateResponse(
        request,
        "console/sign_in_code.html",
        {"user": None, "error": signin.BAD_CODE, "csrf_token": _csrf_of(pending)},
        status_code=401,
    )


def _csrf_of(found: ConsoleSession) -> str:
    return csrf_token(found.csrf_secret)


@router.post("/sign-out", dependencies=PUBLIC)
def sign_out(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    clock: ClockDep,
    csrf_token: FormText = "",
) -> RedirectResponse:
    value = request.cookies.get(sessions.COOKIE, "")
    found = sessions.find(session, value, clock()) if value else None
    if found is not None:
        if not same(csrf_token, _csrf_of(found)):
            raise Forbidden(CSRF_REFUSAL)
        sessions.end(session, value)
    redirect = RedirectResponse(SIGN_IN_PATH, status_code=303)
    cookies.clear_session(redirect, runtime.settings)
    return redirect
