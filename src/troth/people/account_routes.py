"""Customer accounts over HTTP: the API for a business's backend (/api/v1/accounts/...) and
the hosted forms a business without its own sign-in can link to (/accounts/...).

The API asks for a bearer token whose role acts for `deliver_services`; the business keeps its
own session. The hosted forms are public pages with a double-submit CSRF token, a strength
meter fed by POST /accounts/password-strength, and a warning not to reuse a password.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import threading
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from troth.comms.outbox import Outbox
from troth.errors import TrothError
from troth.people import accounts, guardians
from troth.people.context import context_for
from troth.policy.guard import Actor
from troth.runtime import Runtime
from troth.security.clock import ClockDep
from troth.security.deps import Principal, public, requires_purpose
from troth.security.double_submit import DoubleSubmit
from troth.web.deps import RuntimeDep, SessionDep
from troth.web.templating import templates

api = APIRouter(prefix="/api/v1/accounts", tags=["accounts"])
pages = APIRouter(prefix="/accounts", include_in_schema=False, dependencies=[Depends(public)])

Backend = Annotated[
    Principal, Depends(requires_purpose(accounts.PURPOSE, ["email"], action="write"))
]
Password = Annotated[str, Field(min_length=1, max_length=1024)]
Email = Annotated[str, Field(min_length=1, max_length=320)]
FormText = Annotated[str, Form(max_length=1024)]

CSRF = DoubleSubmit("troth_accounts_csrf", "/accounts")
CONFIRM_PATH = "/accounts/reset/confirm"


# What the API takes and gives


class SignUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    password: Password
    name: str | None = Field(default=None, max_length=200)
    country: str | None = Field(default=None, max_length=2)
    region: str | None = Field(default=None, max_length=8)
    date_of_birth: str | None = Field(default=None, max_length=10, description="YYYY-MM-DD")
    age: int | None = Field(default=None, ge=0, le=150)
    guardian_email: str | None = Field(default=None, max_length=320)

    def form(self) -> accounts.SignUp:
        return accounts.SignUp(**self.model_dump())


class SignUpOut(BaseModel):
    person_id: str
    held: bool
    """True when the person awaits a guardian's consent and cannot sign in yet."""
    message: str


class SignInIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    password: Password
    code: str | None = Field(default=None, max_length=16, description="The TOTP code, if enrolled.")
    client_ip: str | None = Field(
        default=None,
        max_length=64,
        description="The person's address as your site saw it, for throttling by address.",
    )

    @field_validator("client_ip")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None:
            ipaddress.ip_address(value)  # ValueError becomes a 422
        return value


class SignInOut(BaseModel):
    signed_in: bool
    person_id: str | None
    second_factor_required: bool
    """True when the account has a second factor: without a code, sign in again with it."""


class PasswordChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: Password
    new_password: Password


class TotpOut(BaseModel):
    secret: str
    uri: str


class ResetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email


class ResetConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=128)
    new_password: Password


class StrengthIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(max_length=1024)
    email: str = Field(default="", max_length=320)


class StrengthOut(BaseModel):
    score: int = Field(ge=0, le=4)
    warning: str
    suggestions: list[str]
    problem: str | None


class Detail(BaseModel):
    detail: str


# The API


@api.post("", status_code=status.HTTP_201_CREATED)
def sign_up(
    principal: Backend, body: SignUpIn, runtime: RuntimeDep, session: SessionDep, clock: ClockDep
) -> SignUpOut:
    """Create the person (source given, method sign_up) and their account."""
    ctx = guardians.context_for(runtime)
    result = accounts.sign_up(session, ctx, principal.actor, body.form(), clock())
    message = accounts.AWAITING_GUARDIAN if result.held else "account created"
    return SignUpOut(person_id=result.person_id, held=result.held, message=message)


@api.post("/sign-in", responses={401: {"model": Detail}, 403: {"model": Detail}})
def sign_in(
    principal: Backend,
    body: SignInIn,
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    clock: ClockDep,
) -> Response:
    """Check a password (and code). An unknown email and a wrong password answer alike."""
    address = body.client_ip or f"unknown:{body.email.strip().lower()}"
    attempt = accounts.Attempt(body.email, body.password, address, clock(), body.code)
    result = accounts.sign_in(session, context_for(runtime), principal.actor, attempt)
    if result.status in (accounts.Status.signed_in, accounts.Status.needs_code):
        out = SignInOut(
            signed_in=result.status is accounts.Status.signed_in,
            person_id=result.person_id,
            second_factor_required=result.second_factor,
        )
        return JSONResponse(out.model_dump())
    return _refusal(result)


def _refusal(result: accounts.SignInResult) -> JSONResponse:
    """Returned, not raised: the failure count must be committed with the request."""
    codes = {accounts.Status.throttled: 429, accounts.Status.held: 403}
    response = JSONResponse({"detail": result.message}, status_code=codes.get(result.status, 401))
    if result.retry_after is not None:
        response.headers["Retry-After"] = str(result.retry_after)
    return response


@api.post("/{person_id}/password", status_code=status.HTTP_204_NO_CONTENT)
def change_password(
    principal: Backend,
    person_id: str,
    body: PasswordChangeIn,
    runtime: RuntimeDep,
    session: SessionDep,
) -> None:
    accounts.change_password(
        session,
        context_for(runtime),
        principal.actor,
        person_id,
        current=body.current_password,
        new=body.new_password,
    )


@api.post("/{person_id}/totp")
def enrol_totp(
    principal: Backend, person_id: str, runtime: RuntimeDep, session: SessionDep
) -> TotpOut:
    """A new second-factor secret, shown once; from now on sign-in needs a code."""
    secret, uri = accounts.enrol_totp(session, context_for(runtime), principal.actor, person_id)
    return TotpOut(secret=secret, uri=uri)


@api.post("/reset", status_code=status.HTTP_202_ACCEPTED)
def request_reset(
    principal: Backend, body: ResetIn, runtime: RuntimeDep, session: SessionDep, clock: ClockDep
) -> Detail:
    """Always the same answer; a link is mailed only when the address has an account."""
    _reset(session, runtime, principal.actor, body.email, clock())
    return Detail(detail=accounts.RESET_SENT)


@api.post("/reset/confirm")
def confirm_reset(
    principal: Backend,
    body: ResetConfirmIn,
    runtime: RuntimeDep,
    session: SessionDep,
    clock: ClockDep,
) -> SignInOut:
    ctx = context_for(runtime)
    person_id = accounts.confirm_reset(
        session, ctx, principal.actor, body.token, body.new_password, clock()
    )
    return SignInOut(signed_in=False, person_id=person_id, second_factor_required=False)


def _reset(
    session: SessionDep, runtime: Runtime, actor: Actor, email: str, now: dt.datetime
) -> None:
    outbox = Outbox.for_runtime(runtime, runtime.keys)
    confirm_url = runtime.settings.base_url + CONFIRM_PATH
    ctx = context_for(runtime)
    accounts.request_reset(session, ctx, actor, outbox, email, confirm_url=confirm_url, now=now)


# The strength meter's estimate


class RateLimit:
    """At most `limit` calls per `window` seconds per key, in this process."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._counts: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, now: float) -> bool:
        with self._lock:
            if len(self._counts) > 10_000:
                self._forget_before(now - self.window)
            started, count = self._counts.get(key, (now, 0))
            if now - started >= self.window:
                started, count = now, 0
            self._counts[key] = (started, count + 1)
            return count < self.limit

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()

    def _forget_before(self, moment: float) -> None:
        self._counts = {k: v for k, v in self._counts.items() if v[0] >= moment}


STRENGTH_LIMIT = RateLimit(limit=60, window=60.0)


@pages.post("/password-strength")
def password_strength(body: StrengthIn, request: Request, runtime: RuntimeDep) -> Response:
    """The meter's estimate: score 0-4, a warning and suggestions (rate-limited)."""
    if not STRENGTH_LIMIT.allow(_client_ip(request), time.monotonic()):
        headers = {"Retry-After": "60"}
        return JSONResponse({"detail": "too many requests"}, status_code=429, headers=headers)
    found = accounts.strength(runtime.declaration, body.password, body.email)
    out = StrengthOut(
        score=found.score,
        warning=found.warning,
        suggestions=found.suggestions,
        problem=found.problem,
    )
    return JSONResponse(out.model_dump(), headers={"Cache-Control": "no-store"})


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# The hosted forms


def _page(
    request: Request,
    runtime: Runtime,
    template: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    token = CSRF.token(request)
    full = {
        "organization_name": runtime.declaration.organization.short_name,
        "csrf_token": token,
        "error": None,
        "reuse_warning": accounts.REUSE_WARNING,
        "min_length": accounts.min_length(runtime.declaration, second_factor=False),
        **(context or {}),
    }
    response = templates.TemplateResponse(request, template, full, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    CSRF.set(response, runtime.settings, token)
    return response


def _done(request: Request, runtime: Runtime, title: str, message: str) -> HTMLResponse:
    context = {"title": title, "message": message}
    return _page(request, runtime, "accounts/done.html", context)


@pages.get("/sign-up", response_class=HTMLResponse)
def sign_up_page(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    return _page(request, runtime, "accounts/sign_up.html", {"form": {}})


@pages.post("/sign-up", response_class=HTMLResponse)
def sign_up_form(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    clock: ClockDep,
    email: FormText = "",
    name: FormText = "",
    country: FormText = "",
    region: FormText = "",
    date_of_birth: FormText = "",
    guardian_email: FormText = "",
    password: FormText = "",
    csrf_token: FormText = "",
) -> HTMLResponse:
    CSRF.check(request, csrf_token)
    kept = {"email": email, "name": name, "country": country, "region": region}
    kept["date_of_birth"] = date_of_birth
    form = accounts.SignUp(
        email=email,
        password=password,
        name=name.strip() or None,
        country=country.strip().upper() or None,
        region=region.strip().upper() or None,
        date_of_birth=date_of_birth.strip() or None,
        guardian_email=guardian_email.strip() or None,
    )
    try:
        with session.begin_nested():
            ctx = guardians.context_for(runtime)
            result = accounts.sign_up(session, ctx, accounts.HOSTED, form, clock())
    except TrothError as exc:
        context = {"form": kept, "error": exc.message}
        return _page(request, runtime, "accounts/sign_up.html", context, exc.status_code)
    if result.held:
        return _done(request, runtime, "Waiting for a parent or guardian", _HELD_NOTICE)
    return _done(request, runtime, "Your account is ready", "You can now sign in.")


_HELD_NOTICE = (
    "Your account is made, but it cannot be used until a parent or guardian agrees. "
    "We emailed them a link to confirm."
)


@pages.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    return _page(request, runtime, "accounts/sign_in.html", {"email": "", "ask_code": False})


@pages.post("/sign-in", response_class=HTMLResponse)
def sign_in_form(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    clock: ClockDep,
    email: FormText = "",
    password: FormText = "",
    code: FormText = "",
    csrf_token: FormText = "",
) -> HTMLResponse:
    CSRF.check(request, csrf_token)
    result = _hosted_sign_in(request, runtime, session, clock(), email, password, code)
    if result.status is accounts.Status.signed_in:
        return _done(request, runtime, "Signed in", "Your email and password are right.")
    return _sign_in_again(request, runtime, email, result)


def _hosted_sign_in(
    request: Request,
    runtime: Runtime,
    session: SessionDep,
    now: dt.datetime,
    email: str,
    password: str,
    code: str,
) -> accounts.SignInResult:
    attempt = accounts.Attempt(email, password, _client_ip(request), now, code.strip() or None)
    return accounts.sign_in(session, context_for(runtime), accounts.HOSTED, attempt)


def _sign_in_again(
    request: Request, runtime: Runtime, email: str, result: accounts.SignInResult
) -> HTMLResponse:
    asks_code = result.status in (accounts.Status.needs_code, accounts.Status.bad_code)
    codes = {accounts.Status.throttled: 429, accounts.Status.held: 403}
    context = {"email": email, "ask_code": asks_code, "error": result.message}
    status_code = 200 if result.status is accounts.Status.needs_code else None
    response = _page(
        request,
        runtime,
        "accounts/sign_in.html",
        context,
        status_code or codes.get(result.status, 401),
    )
    if result.retry_after is not None:
        response.headers["Retry-After"] = str(result.retry_after)
    return response


@pages.get("/password", response_class=HTMLResponse)
def password_page(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    return _page(request, runtime, "accounts/password.html", {"email": ""})


@pages.post("/password", response_class=HTMLResponse)
def password_form(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    clock: ClockDep,
    email: FormText = "",
    current: FormText = "",
    code: FormText = "",
    password: FormText = "",
    csrf_token: FormText = "",
) -> HTMLResponse:
    """Change a password: the current one (and code) are checked like a sign-in."""
    CSRF.check(request, csrf_token)
    result = _hosted_sign_in(request, runtime, session, clock(), email, current, code)
    if result.status is not accounts.Status.signed_in or result.person_id is None:
        context = {"email": email, "error": result.message}
        return _page(request, runtime, "accounts/password.html", context, 401)
    try:
        with session.begin_nested():
            accounts.change_password(
                session,
                context_for(runtime),
                accounts.HOSTED,
                result.person_id,
                current=current,
                new=password,
            )
    except TrothError as exc:
        context = {"email": email, "error": exc.message}
        return _page(request, runtime, "accounts/password.html", context, exc.status_code)
    return _done(request, runtime, "Password changed", "Your new password is set.")


@pages.get("/reset", response_class=HTMLResponse)
def reset_page(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    return _page(request, runtime, "accounts/reset.html")


@pages.post("/reset", response_class=HTMLResponse)
def reset_form(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    clock: ClockDep,
    email: FormText = "",
    csrf_token: FormText = "",
) -> HTMLResponse:
    CSRF.check(request, csrf_token)
    _reset(session, runtime, accounts.HOSTED, email, clock())
    return _done(request, runtime, "Check your email", accounts.RESET_SENT.capitalize() + ".")


@pages.get("/reset/confirm", response_class=HTMLResponse)
def reset_confirm_page(request: Request, runtime: RuntimeDep, token: str = "") -> HTMLResponse:
    return _page(request, runtime, "accounts/reset_confirm.html", {"token": token[:128]})


@pages.post("/reset/confirm", response_class=HTMLResponse)
def reset_confirm_form(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    clock: ClockDep,
    token: FormText = "",
    password: FormText = "",
    csrf_token: FormText = "",
) -> HTMLResponse:
    CSRF.check(request, csrf_token)
    ctx = context_for(runtime)
    try:
        accounts.confirm_reset(session, ctx, accounts.HOSTED, token, password, clock())
    except TrothError as exc:
        context = {"token": token, "error": exc.message}
        return _page(request, runtime, "accounts/reset_confirm.html", context, exc.status_code)
    return _done(request, runtime, "Password changed", "Your new password is set.")
