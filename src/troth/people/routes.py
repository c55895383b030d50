"""The people admin API: create, read, update and search people, add payment tokens, and
see what a declared recipient may receive. Every call names its purpose."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from troth.errors import Unprocessable
from troth.people import service
from troth.people.context import context_for
from troth.people.models import Person
from troth.people.schemas import (
    PaymentMethodIn,
    PaymentMethodOut,
    PeoplePageOut,
    PersonIn,
    PersonOut,
    PersonSummaryOut,
    UpdateOut,
)
from troth.policy.schema import Action
from troth.security.clock import aware
from troth.security.deps import Principal, requires
from troth.web.deps import RuntimeDep, SessionDep

router = APIRouter(prefix="/api/v1/people", tags=["people"])

ManagesPeople = Annotated[Principal, Depends(requires(Action.manage_people))]
Purpose = Annotated[str, Query(min_length=1, max_length=64, description="The declared purpose.")]
MaybePurpose = Annotated[str | None, Query(max_length=64)]
Search = Annotated[str | None, Query(max_length=320)]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_person(
    principal: ManagesPeople,
    body: PersonIn,
    purpose: Purpose,
    runtime: RuntimeDep,
    session: SessionDep,
) -> PersonOut:
    view = service.create_person(
        session,
        context_for(runtime),
        principal.actor,
        body.values,
        purpose=purpose,
        origin=body.origin(),
    )
    return PersonOut.of(view)


@router.get("")
def list_people(
    principal: ManagesPeople,
    runtime: RuntimeDep,
    session: SessionDep,
    purpose: MaybePurpose = None,
    email: Search = None,
    phone: Search = None,
    country: Annotated[str | None, Query(max_length=2)] = None,
    page: int = 1,
    per_page: int = 50,
) -> PeoplePageOut:
    """Ids and status, with names when the purpose allows; ?email= or ?phone= search exactly."""
    ctx = context_for(runtime)
    if email is None and phone is None:
        found = service.list_people(
            session, ctx, principal.actor, page=page, per_page=per_page, purpose=purpose
        )
        return PeoplePageOut.of(found)
    if purpose is None:
        raise Unprocessable("searching by email or phone needs a purpose")
    if email is not None:
        people = service.find_by_email(session, ctx, principal.actor, email, purpose=purpose)
    else:
        assert phone is not None
        people = service.find_by_phone(
            session, ctx, principal.actor, phone, purpose=purpose, country=country
        )
    return _matches(people)


def _matches(people: Sequence[Person]) -> PeoplePageOut:
    items = [
        PersonSummaryOut(id=p.public_id, status=p.status, created_at=aware(p.created_at))
        for p in people
    ]
    return PeoplePageOut(
        items=items, total=len(items), page=1, per_page=max(len(items), 1), names_shown=False
    )


@router.get("/{public_id}")
def get_person(
    principal: ManagesPeople,
    public_id: str,
    purpose: Purpose,
    runtime: RuntimeDep,
    session: SessionDep,
) -> PersonOut:
    ctx = context_for(runtime)
    return PersonOut.of(
        service.get_person(session, ctx, principal.actor, public_id, purpose=purpose)
    )


@router.patch("/{public_id}")
def update_person(
    principal: ManagesPeople,
    public_id: str,
    body: PersonIn,
    purpose: Purpose,
    runtime: RuntimeDep,
    session: SessionDep,
) -> UpdateOut:
    result = service.update_person(
        session,
        context_for(runtime),
        principal.actor,
        public_id,
        body.values,
        purpose=purpose,
        origin=body.origin(),
    )
    return UpdateOut.of(result)


@router.post("/{public_id}/payment-methods", status_code=status.HTTP_201_CREATED)
def add_payment_method(
    principal: ManagesPeople,
    public_id: str,
    body: PaymentMethodIn,
    purpose: Purpose,
    runtime: RuntimeDep,
    session: SessionDep,
) -> PaymentMethodOut:
    method = service.add_payment_method(
        session, context_for(runtime), principal.actor, public_id, body.card(), purpose=purpose
    )
    return PaymentMethodOut.model_validate(method)


@router.get("/{public_id}/recipients/{recipient_id}")
def view_for_recipient(
    principal: ManagesPeople,
    public_id: str,
    recipient_id: str,
    purpose: Purpose,
    runtime: RuntimeDep,
    session: SessionDep,
) -> PersonOut:
    """What this declared recipient (an affiliate, a processor) may receive about the person."""
    view = service.view_for_recipient(
        session, context_for(runtime), principal.actor, public_id, recipient_id, purpose=purpose
    )
    return PersonOut.of(view)
