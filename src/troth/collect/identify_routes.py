"""`POST /api/v1/identify-tokens`: the business's backend asks for a short-lived token that
ties the visitor on its page to a signed-in customer (`troth("identify", token)`).

The caller's role must act for the purpose linking serves, over the categories a link
combines; the person must exist and the guard must allow that purpose for them (a person
awaiting a guardian, suspended, or who objected gets a 403 that says why). Whether the
visitor's events really get linked is decided again at ingest (`troth.collect.linking`).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from troth.audit.authorize import authorize
from troth.collect.identify import PUBLIC_ID, IdentifyTokens, Issued
from troth.collect.linking import LINK_CATEGORIES, LINK_PURPOSE
from troth.collect.sites import Sites
from troth.errors import NotFound, Unprocessable
from troth.people import repository as people_repository
from troth.people.subjects import subject_for
from troth.policy.guard import Actor
from troth.policy.schema import Declaration
from troth.runtime import Runtime
from troth.security.clock import ClockDep
from troth.security.deps import Principal, requires_purpose
from troth.web.deps import RuntimeDep, SessionDep

ACTION = "identify_token.create"

router = APIRouter(prefix="/api/v1/identify-tokens", tags=["collect"])
Links = Annotated[
    Principal, Depends(requires_purpose(LINK_PURPOSE, LINK_CATEGORIES, action=ACTION))
]


class IdentifyTokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person: str = Field(min_length=1, max_length=64, description="The person's public id.")
    site: str | None = Field(
        default=None,
        max_length=253,
        description="The declared site (or a subdomain of it); may be left out when the "
        "declaration names one site.",
    )


class IdentifyTokenOut(BaseModel):
    token: str
    site: str
    expires_at: dt.datetime


@router.post("", status_code=status.HTTP_201_CREATED)
def create_identify_token(
    principal: Links,
    body: IdentifyTokenIn,
    runtime: RuntimeDep,
    session: SessionDep,
    clock: ClockDep,
) -> IdentifyTokenOut:
    site = declared_site(runtime.declaration, body.site)
    issued = issue(session, runtime, principal.actor, body.person, site, clock())
    return IdentifyTokenOut(token=issued.token, site=site, expires_at=issued.expires_at)


def declared_site(declaration: Declaration, asked: str | None) -> str:
    domains = [site.domain for site in declaration.sites]
    if asked is None:
        if len(domains) == 1:
            return domains[0]
        raise Unprocessable(f"say which site the token is for: {', '.join(domains)}")
    found = Sites.of(declaration.sites).site_of(asked)
    if found is None:
        raise Unprocessable(f"{asked!r} is not a site the privacy policy covers")
    return found


def issue(
    session: Session, runtime: Runtime, actor: Actor, public_id: str, site: str, now: dt.datetime
) -> Issued:
    """A token for `public_id` on `site`, after the guard allowed linking for that person."""
    if not PUBLIC_ID.fullmatch(public_id):
        raise Unprocessable("'person' must be a person's public id (a lowercase UUID)")
    person = people_repository.by_public_id(session, public_id)
    if person is None:
        raise NotFound(f"no person {public_id}")
    subject = subject_for(person)
    authorize(
        session, runtime.guard, actor, LINK_PURPOSE, LINK_CATEGORIES, action=ACTION, subject=subject
    )
    return IdentifyTokens.of(runtime.keys).mint(public_id, site, now)
