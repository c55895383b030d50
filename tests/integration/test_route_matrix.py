"""Every console page and admin API route asks for a permission, and the declaration decides.

The walker fails on any route under /console or /api/v1 that declares no permission; the
matrix then calls every guarded route as every declared role and expects 403 exactly where
the declaration does not give that role the route's action or purpose (SE1).
"""

from __future__ import annotations

import re

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import EXAMPLE_POLICY
from tests.unit.security.support import FakeClock, add_token, add_user, app_with_clock, session_for
from troth.app import create_app
from troth.audit.models import AuditEntry
from troth.policy.schema import Action, Declaration
from troth.runtime import Runtime
from troth.security.deps import current_principal, public, requires
from troth.security.permissions import (
    Kind,
    Permission,
    RouteInfo,
    guarded_routes,
    permissions_of,
    unguarded,
)

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
SIGN_IN_FORMS = {"/console/sign-in", "/console/sign-in/code", "/console/sign-out"}


def example_roles() -> list[str]:
    from troth.policy.loader import load_policy

    return sorted(load_policy(EXAMPLE_POLICY).declaration.roles)


def test_se1_the_walker_flags_a_route_without_a_permission() -> None:
    app = FastAPI()

    @app.get("/api/v1/forgotten")
    def forgotten() -> dict[str, str]:
        return {}

    @app.get("/api/v1/guarded", dependencies=[Depends(requires(Action.view_audit))])
    def guarded() -> dict[str, str]:
        return {}

    @app.get("/console/open", dependencies=[Depends(public)])
    def open_page() -> dict[str, str]:
        return {}

    @app.get("/healthz")
    def outside() -> dict[str, str]:
        return {}

    assert unguarded(app) == ["GET /api/v1/forgotten"]


def test_se1_every_console_and_api_route_declares_a_permission(runtime: Runtime) -> None:
    app = create_app(runtime.settings, runtime)
    assert unguarded(app) == []
    assert len(guarded_routes(app)) >= 15


def test_se1_every_unsafe_console_route_checks_csrf(runtime: Runtime) -> None:
    """Signed-in console routes check the token through current_principal; the sign-in
    forms check theirs themselves (tested in test_console_auth)."""
    app = create_app(runtime.settings, runtime)
    for route in guarded_routes(app):
        if not route.path.startswith("/console") or not route.methods & UNSAFE:
            continue
        if route.path in SIGN_IN_FORMS:
            continue
        assert _depends_on(route, current_principal), route.path


def _depends_on(route: RouteInfo, call: object) -> bool:
    pending = list(route.dependant.dependencies)
    while pending:
        child = pending.pop()
        if child.call is call:
            return True
        pending.extend(child.dependencies)
    return False


def strongest(route: RouteInfo) -> Permission:
    found = permissions_of(route)
    for kind in (Kind.action, Kind.purpose, Kind.signed_in, Kind.public):
        for permission in found:
            if permission.kind is kind:
                return permission
    raise AssertionError(f"{route.path} has no permission")


def declared_allows(declaration: Declaration, role: str, permission: Permission) -> bool:
    """Read straight from the declaration, not from the guard under test."""
    if permission.kind is Kind.action:
        return permission.action in declaration.roles[role].actions
    if permission.kind is Kind.purpose:
        purpose = declaration.purposes[permission.purpose or ""]
        return role in purpose.roles and set(permission.categories) <= set(purpose.categories)
    return True


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "987654", path)


def call(client: TestClient, route: RouteInfo, headers: dict[str, str], csrf: str) -> int:
    method = route.method
    url = concrete(route.path)
    if method == "GET":
        return int(client.get(url, headers=headers, follow_redirects=False).status_code)
    if url.startswith("/api/"):
        return int(client.request(method, url, headers=headers, json={}).status_code)
    form = {"csrf_token": csrf}
    response = client.request(method, url, headers=headers, data=form, follow_redirects=False)
    return int(response.status_code)


@pytest.mark.parametrize("role", example_roles())
def test_se1_role_by_route_matrix(runtime: Runtime, role: str) -> None:
    declaration = runtime.declaration
    app = app_with_clock(runtime, FakeClock())
    user_id = add_user(runtime, f"{role}.person@lumeninsights.example", role)
    cookie, csrf = session_for(runtime, user_id)
    token = add_token(runtime, role)
    console = TestClient(app)
    console.cookies.set("troth_session", cookie)
    api = TestClient(app)
    checked = 0
    for route in guarded_routes(app):
        permission = strongest(route)
        if permission.kind is Kind.public:
            continue
        is_api = route.path.startswith("/api/")
        client, headers = (api, {"Authorization": f"Bearer {token}"}) if is_api else (console, {})
        status = call(client, route, headers, csrf)
        where = f"{role} {sorted(route.methods)} {route.path} ({permission})"
        assert status < 500, where
        assert status != 401, where
        if declared_allows(declaration, role, permission):
            assert status != 403, f"declared allow refused: {where}"
        else:
            assert status == 403, f"allowed without a declaration: {where} gave {status}"
        checked += 1
    assert checked >= 12


def test_se1_a_denied_route_leaves_an_audit_entry(runtime: Runtime) -> None:
    app = app_with_clock(runtime, FakeClock())
    token = add_token(runtime, "auditor")
    denied = TestClient(app).get(
        "/api/v1/policy/versions", headers={"Authorization": f"Bearer {token}"}
    )
    assert denied.status_code == 403
    assert denied.json()["detail"] == "auditor may not manage_policy"
    with runtime.transaction() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "manage_policy")
        ).one()
    assert entry.outcome == "denied"
    assert entry.actor.startswith("api_token:")
