"""Console pages: search and list people, view one under a purpose, create and edit."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from troth.errors import TrothError
from troth.people import service
from troth.people.cleaners import ADDRESS_PARTS
from troth.people.context import PeopleContext, context_for
from troth.people.fields import CATALOGUE
from troth.people.forms import FLAT_FIELDS, changed_only, form_of, values_from_form
from troth.people.service import Origin
from troth.policy.schema import Action
from troth.runtime import Runtime
from troth.security.deps import Principal, requires
from troth.web.console import page
from troth.web.deps import RuntimeDep, SessionDep

router = APIRouter(prefix="/console/people", include_in_schema=False)

ManagesPeople = Annotated[Principal, Depends(requires(Action.manage_people))]
QueryText = Annotated[str, Query(max_length=320)]
CONSOLE = Origin(method="console")


async def posted(request: Request) -> dict[str, str]:
    """The submitted form (read after the CSRF check has parsed it already)."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


Posted = Annotated[dict[str, str], Depends(posted)]


def _base(runtime: Runtime, principal: Principal, purpose: str) -> dict[str, Any]:
    return {
        "purposes": runtime.guard.purposes_for(principal.actor),
        "purpose": purpose,
        "labels": {name: spec.label for name, spec in CATALOGUE.items()},
        "flat_fields": FLAT_FIELDS,
        "address_parts": ADDRESS_PARTS,
        "error": None,
    }


@router.get("", response_class=HTMLResponse)
def people_page(
    request: Request,
    principal: ManagesPeople,
    runtime: RuntimeDep,
    session: SessionDep,
    email: QueryText = "",
    phone: QueryText = "",
    purpose: QueryText = "",
    page_number: Annotated[int, Query(alias="page", ge=1, le=100000)] = 1,
) -> HTMLResponse:
    context = _base(runtime, principal, purpose)
    context.update(email=email, phone=phone, found=None, listing=None)
    ctx = context_for(runtime)
    try:
        if email or phone:
            context["found"] = _search(session, ctx, principal, email, phone, purpose)
        else:
            context["listing"] = service.list_people(
                session, ctx, principal.actor, page=page_number, purpose=purpose or None
            )
    except TrothError as exc:
        context["error"] = exc.message
        return page(request, runtime, principal, "console/people/index.html", context, 422)
    return page(request, runtime, principal, "console/people/index.html", context)


def _search(
    session: SessionDep,
    ctx: PeopleContext,
    principal: Principal,
    email: str,
    phone: str,
    purpose: str,
) -> list[Any]:
    if not purpose:
        raise TrothError("choose the purpose you search for")
    if email:
        return list(service.find_by_email(session, ctx, principal.actor, email, purpose=purpose))
    return list(service.find_by_phone(session, ctx, principal.actor, phone, purpose=purpose))


@router.get("/new", response_class=HTMLResponse)
def new_person_page(
    request: Request, principal: ManagesPeople, runtime: RuntimeDep, purpose: QueryText = ""
) -> HTMLResponse:
    context = _base(runtime, principal, purpose)
    context.update(person=None, form={}, shown=None)
    return page(request, runtime, principal, "console/people/edit.html", context)


@router.post("", response_class=HTMLResponse)
def create_person(
    request: Request,
    principal: ManagesPeople,
    runtime: RuntimeDep,
    session: SessionDep,
    form: Posted,
) -> Response:
    purpose = form.get("purpose", "")
    submitted = {k: v for k, v in values_from_form(form).items() if v is not None}
    try:
        view = service.create_person(
            session,
            context_for(runtime),
            principal.actor,
            submitted,
            purpose=purpose,
            origin=CONSOLE,
        )
    except TrothError as exc:
        context = _base(runtime, principal, purpose)
        context.update(person=None, form=form, shown=None, error=exc.message)
        status = exc.status_code
        return page(request, runtime, principal, "console/people/edit.html", context, status)
    return RedirectResponse(f"/console/people/{view.public_id}?purpose={purpose}", 303)


@router.get("/{public_id}", response_class=HTMLResponse)
def person_page(
    request: Request,
    public_id: str,
    principal: ManagesPeople,
    runtime: RuntimeDep,
    session: SessionDep,
    purpose: QueryText = "",
) -> HTMLResponse:
    context = _base(runtime, principal, purpose)
    context["person"] = service.get(session, public_id)
    context["view"] = None
    if purpose:
        context["view"] = service.get_person(
            session, context_for(runtime), principal.actor, public_id, purpose=purpose
        )
    return page(request, runtime, principal, "console/people/view.html", context)


@router.get("/{public_id}/edit", response_class=HTMLResponse)
def edit_person_page(
    request: Request,
    public_id: str,
    principal: ManagesPeople,
    runtime: RuntimeDep,
    session: SessionDep,
    purpose: QueryText = "",
) -> Response:
    if not purpose:
        return RedirectResponse(f"/console/people/{public_id}", 303)
    view = service.get_person(
        session, context_for(runtime), principal.actor, public_id, purpose=purpose
    )
    context = _base(runtime, principal, purpose)
    context.update(person=view, form=form_of(view.values), shown=_shown(runtime, purpose))
    return page(request, runtime, principal, "console/people/edit.html", context)


def _shown(runtime: Runtime, purpose: str) -> list[str]:
    """The fields a purpose may see, and so edit."""
    declared = runtime.declaration.purposes.get(purpose)
    categories = set(declared.categories) if declared else set()
    return [name for name, spec in CATALOGUE.items() if spec.category in categories]


@router.post("/{public_id}", response_class=HTMLResponse)
def update_person(
    request: Request,
    public_id: str,
    principal: ManagesPeople,
    runtime: RuntimeDep,
    session: SessionDep,
    form: Posted,
) -> Response:
    purpose = form.get("purpose", "")
    ctx = context_for(runtime)
    shown = _shown(runtime, purpose)
    current = service.get_person(session, ctx, principal.actor, public_id, purpose=purpose)
    submitted = values_from_form(form, set(shown))
    changes = changed_only(submitted, current.values)
    try:
        if changes:
            service.update_person(
                session,
                ctx,
                principal.actor,
                public_id,
                changes,
                purpose=purpose,
                origin=CONSOLE,
            )
    except TrothError as exc:
        context = _base(runtime, principal, purpose)
        context.update(person=current, form=form, shown=shown, error=exc.message)
        status = exc.status_code
        return page(request, runtime, principal, "console/people/edit.html", context, status)
    return RedirectResponse(f"/console/people/{public_id}?purpose={purpose}", 303)
