"""The guardian's pages (`/guardian/verify/{token}`, `/guardian/withdraw/{token}`) and the
admin API's view of a person's guardian consent.

The pages are public: the link's token is the guardian's proof. Their forms carry a
double-submit CSRF token (a cookie and a hidden field that must match), as the sign-in form
does. Every refusal is a page with a 4xx status.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from troth.errors import TrothError
from troth.people import guardians
from troth.people.context import context_for as people_context
from troth.people.guardian_models import AgeCheck
from troth.people.service import get
from troth.policy.schema import Action
from troth.runtime import Runtime
from troth.security.clock import ClockDep, aware
from troth.security.deps import Principal, public, requires
from troth.security.double_submit import DoubleSubmit
from troth.web.console import FormText
from troth.web.deps import RuntimeDep, SessionDep
from troth.web.templating import templates

router = APIRouter(prefix="/guardian", include_in_schema=False, dependencies=[Depends(public)])
api_router = APIRouter(prefix="/api/v1/people", tags=["people"])

CSRF = DoubleSubmit("troth_guardian_csrf", "/guardian")
Token = Annotated[str, Path(min_length=1, max_length=128)]
PRIVATE_HEADERS = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
"""The link's token is in the address: never pass it on, never keep the page."""


def _render(
    request: Request,
    runtime: Runtime,
    template: str,
    context: dict[str, Any],
    status_code: int = 200,
) -> HTMLResponse:
    declaration = runtime.declaration
    full = {
        "organization_name": declaration.organization.short_name,
        "support_email": str(declaration.organization.support_email),
        **context,
    }
    response = templates.TemplateResponse(request, template, full, status_code=status_code)
    response.headers.update(PRIVATE_HEADERS)
    return response


def _refusal(request: Request, runtime: Runtime, exc: TrothError) -> HTMLResponse:
    context = {"status": exc.status_code, "message": exc.message}
    return _render(request, runtime, "error.html", context, exc.status_code)


def _with_csrf(
    request: Request, runtime: Runtime, template: str, context: dict[str, Any]
) -> Response:
    token = CSRF.token(request)
    response = _render(request, runtime, template, {**context, "csrf_token": token})
    CSRF.set(response, runtime.settings, token)
    return response


@router.get("/verify/{token}", response_class=HTMLResponse)
def verify_page(
    request: Request, token: Token, runtime: RuntimeDep, session: SessionDep, clock: ClockDep
) -> Response:
    try:
        link = guardians.open_verification(session, guardians.context_for(runtime), token, clock())
    except TrothError as exc:
        return _refusal(request, runtime, exc)
    context = {
        "first_name": link.first_name,
        "threshold": link.threshold,
        "expires_on": _day(link.expires_at),
    }
    return _with_csrf(request, runtime, "guardian/verify.html", context)


@router.post("/verify/{token}", response_class=HTMLResponse)
def give_consent(
    request: Request,
    token: Token,
    runtime: RuntimeDep,
    session: SessionDep,
    clock: ClockDep,
    csrf_token: FormText = "",
) -> Response:
    try:
        CSRF.check(request, csrf_token)
        done = guardians.consent(session, guardians.context_for(runtime), token, clock())
    except TrothError as exc:
        return _refusal(request, runtime, exc)
    withdraw_url = f"{runtime.settings.base_url}/guardian/withdraw/{done.withdraw_token}"
    context = {"first_name": done.first_name, "withdraw_url": withdraw_url}
    return _render(request, runtime, "guardian/consented.html", context)


@router.get("/withdraw/{token}", response_class=HTMLResponse)
def withdraw_page(
    request: Request, token: Token, runtime: RuntimeDep, session: SessionDep
) -> Response:
    try:
        guardians.open_withdrawal(session, token)
    except TrothError as exc:
        return _refusal(request, runtime, exc)
    return _with_csrf(request, runtime, "guardian/withdraw.html", {})


@router.post("/withdraw/{token}", response_class=HTMLResponse)
def withdraw(
    request: Request,
    token: Token,
    runtime: RuntimeDep,
    session: SessionDep,
    clock: ClockDep,
    csrf_token: FormText = "",
) -> Response:
    try:
        CSRF.check(request, csrf_token)
        guardians.withdraw(session, token, clock())
    except TrothError as exc:
        return _refusal(request, runtime, exc)
    return _render(request, runtime, "guardian/withdrawn.html", {})


def _day(moment: dt.datetime) -> str:
    return f"{moment.astimezone(dt.UTC):%d %B %Y, %H:%M} UTC"


class AgeCheckOut(BaseModel):
    threshold: int
    jurisdiction: str | None
    matched: str | None
    source: str
    needs_review: bool
    held: bool
    checked_at: dt.datetime


class GuardianRequestOut(BaseModel):
    state: str
    requested_at: dt.datetime
    link_expires_at: dt.datetime
    consented_at: dt.datetime | None
    method: str | None
    policy_version: int | None
    policy_last_updated: dt.date | None
    withdrawn_at: dt.datetime | None
    guardian_email: str | None


class GuardianStateOut(BaseModel):
    id: str
    status: str
    held: bool
    age_check: AgeCheckOut | None
    requests: list[GuardianRequestOut]

    @classmethod
    def of(cls, state: guardians.GuardianState) -> GuardianStateOut:
        check = state.age_check
        return cls(
            id=state.public_id,
            status=state.status,
            held=state.held,
            age_check=_age_check_out(check) if check is not None else None,
            requests=[GuardianRequestOut(**asdict(r)) for r in state.requests],
        )


def _age_check_out(check: AgeCheck) -> AgeCheckOut:
    return AgeCheckOut(
        threshold=check.threshold,
        jurisdiction=check.jurisdiction,
        matched=check.matched,
        source=check.source,
        needs_review=check.needs_review,
        held=check.held,
        checked_at=aware(check.checked_at),
    )


ManagesPeople = Annotated[Principal, Depends(requires(Action.manage_people))]


@api_router.get("/{public_id}/guardian")
def guardian_state(
    principal: ManagesPeople, public_id: str, runtime: RuntimeDep, session: SessionDep
) -> GuardianStateOut:
    """The person's status, the last age check (with the rule's source and any review flag)
    and every guardian request, oldest first."""
    person = get(session, public_id)
    ctx = people_context(runtime)
    return GuardianStateOut.of(guardians.guardian_state(session, ctx, principal.actor, person))
