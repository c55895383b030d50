"""What each route asks of its caller, kept on the route itself so tests can read it.

A route declares its permission by depending on `public`, `signed_in`, `requires(...)` or
`requires_purpose(...)` (see troth.security.deps). Each of those dependencies carries a
Permission; `permissions_of(route)` finds them anywhere in the route's dependency tree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from troth.policy.schema import Action

GUARDED_PREFIXES = ("/console", "/api/v1")
_ATTRIBUTE = "__troth_permission__"

F = TypeVar("F", bound=Callable[..., Any])


class Kind(StrEnum):
    public = "public"
    signed_in = "signed_in"
    action = "action"
    purpose = "purpose"


@dataclass(frozen=True)
class Permission:
    kind: Kind
    action: Action | None = None
    purpose: str | None = None
    categories: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.kind is Kind.action and self.action is not None:
            return f"action {self.action.value}"
        if self.kind is Kind.purpose:
            return f"purpose {self.purpose} ({', '.join(self.categories)})"
        return self.kind.value


def mark(dependency: F, permission: Permission) -> F:
    setattr(dependency, _ATTRIBUTE, permission)
    return dependency


@dataclass(frozen=True)
class RouteInfo:
    path: str
    methods: frozenset[str]
    dependant: Dependant

    @property
    def method(self) -> str:
        return sorted(self.methods)[0]


def permissions_of(route: RouteInfo) -> list[Permission]:
    return list(_walk(route.dependant))


def _walk(dependant: Dependant) -> Iterable[Permission]:
    for child in dependant.dependencies:
        permission = getattr(child.call, _ATTRIBUTE, None)
        if isinstance(permission, Permission):
            yield permission
        yield from _walk(child)


def all_routes(app: FastAPI) -> list[RouteInfo]:
    """Every API route with its full path and its whole dependency tree."""
    found = []
    for route in _flattened(app.routes):
        path, methods = getattr(route, "path", None), getattr(route, "methods", None)
        dependant = getattr(route, "dependant", None)
        if isinstance(path, str) and methods and isinstance(dependant, Dependant):
            found.append(RouteInfo(path, frozenset(methods), dependant))
    return found


def _flattened(routes: Sequence[BaseRoute]) -> Iterable[Any]:
    # Newer FastAPI keeps included routers nested; iter_route_contexts resolves them.
    try:
        from fastapi.routing import iter_route_contexts  # type: ignore[attr-defined,unused-ignore]
    except ImportError:  # pragma: no cover - FastAPI that flattens included routers
        return [route for route in routes if isinstance(route, APIRoute)]
    return list(iter_route_contexts(routes))


def guarded_routes(app: FastAPI) -> list[RouteInfo]:
    """Every route under /console and /api/v1."""
    return [route for route in all_routes(app) if route.path.startswith(GUARDED_PREFIXES)]


def unguarded(app: FastAPI) -> list[str]:
    """'METHOD /path' of every console or admin API route that declares no permission."""
    return [
        f"{','.join(sorted(route.methods))} {route.path}"
        for route in guarded_routes(app)
        if not permissions_of(route)
    ]
