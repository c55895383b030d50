"""The guard's Actor for a console user or an API token."""

from __future__ import annotations

from troth.policy.guard import Actor, ActorKind
from troth.security.models import ApiToken, ConsoleUser


def user_actor_id(user_id: int) -> str:
    return f"console_user:{user_id}"


def of_user(user: ConsoleUser) -> Actor:
    return Actor(id=user_actor_id(user.id), roles=frozenset({user.role}), kind=ActorKind.user)


def of_token(token: ApiToken) -> Actor:
    return Actor(id=f"api_token:{token.id}", roles=frozenset({token.role}), kind=ActorKind.token)
