"""The admin API's own routes: who am I, API tokens, and the published policy versions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from troth.policy import service as policy_service
from troth.policy.schema import Action
from troth.security import api_tokens
from troth.security.clock import ClockDep
from troth.security.deps import Principal, SignedIn, requires
from troth.security.schemas import Me, NewToken, PolicyVersionOut, TokenIn, TokenOut
from troth.web.deps import RuntimeDep, SessionDep

router = APIRouter(prefix="/api/v1", tags=["admin"])

ManagesUsers = Annotated[Principal, Depends(requires(Action.manage_users))]
ManagesPolicy = Annotated[Principal, Depends(requires(Action.manage_policy))]


@router.get("/me")
def me(principal: SignedIn, runtime: RuntimeDep) -> Me:
    guard = runtime.guard
    actor = principal.actor
    return Me(
        actor=actor.id,
        kind=actor.kind.value,
        roles=sorted(actor.roles),
        purposes=guard.purposes_for(actor),
        actions=[action.value for action in Action if guard.may(actor, action)],
    )


@router.get("/tokens")
def list_tokens(_: ManagesUsers, session: SessionDep) -> list[TokenOut]:
    return [TokenOut.model_validate(token) for token in api_tokens.all_tokens(session)]


@router.post("/tokens", status_code=status.HTTP_201_CREATED)
def create_token(
    body: TokenIn,
    principal: ManagesUsers,
    runtime: RuntimeDep,
    session: SessionDep,
    clock: ClockDep,
) -> NewToken:
    token, value = api_tokens.create(
        session, runtime.declaration, principal.actor, name=body.name, role=body.role, now=clock()
    )
    return NewToken(**TokenOut.model_validate(token).model_dump(), token=value)


@router.delete("/tokens/{token_id}")
def revoke_token(
    token_id: int, principal: ManagesUsers, session: SessionDep, clock: ClockDep
) -> TokenOut:
    return TokenOut.model_validate(api_tokens.revoke(session, principal.actor, token_id, clock()))


@router.get("/policy/versions")
def policy_versions(_: ManagesPolicy, session: SessionDep) -> list[PolicyVersionOut]:
    return [PolicyVersionOut.model_validate(v) for v in policy_service.history(session)]
