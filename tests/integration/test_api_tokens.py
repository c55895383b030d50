"""Admin API tokens: scoped to a role, shown once, revocable (SE1)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.unit.security.support import (
    FakeClock,
    add_token,
    add_user,
    app_with_clock,
    form_token,
    session_for,
)
from troth.runtime import Runtime
from troth.security.models import ApiToken
from troth.security.tokens import fingerprint


@pytest.fixture
def client(runtime: Runtime) -> TestClient:
    return TestClient(app_with_clock(runtime, FakeClock()))


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def test_se1_api_needs_a_token(client: TestClient) -> None:
    missing = client.get("/api/v1/me")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert "token" in missing.json()["detail"]
    assert client.get("/api/v1/me", headers=bearer("troth_nope")).status_code == 401
    assert client.get("/api/v1/me", headers=bearer("not-even-ours")).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401


def test_se1_token_acts_for_its_role_only(runtime: Runtime, client: TestClient) -> None:
    marketing = add_token(runtime, "marketing")
    me = client.get("/api/v1/me", headers=bearer(marketing))
    assert me.status_code == 200
    body = me.json()
    assert body["roles"] == ["marketing"]
    assert body["kind"] == "token"
    assert "promotional_messages" in body["purposes"]
    assert "fraud_prevention" not in body["purposes"]
    assert sorted(body["actions"]) == ["send_campaigns", "view_analytics"]
    denied = client.get("/api/v1/tokens", headers=bearer(marketing))
    assert denied.status_code == 403
    assert denied.json()["detail"] == "marketing may not manage_users"


def test_se1_token_is_shown_once_stored_hashed_and_revocable(
    runtime: Runtime, client: TestClient
) -> None:
    admin = add_token(runtime, "admin")
    created = client.post(
        "/api/v1/tokens", json={"name": "ci", "role": "auditor"}, headers=bearer(admin)
    )
    assert created.status_code == 201
    value = created.json()["token"]
    assert value.startswith("troth_")
    assert len(value) > 40
    listed = client.get("/api/v1/tokens", headers=bearer(admin)).json()
    assert all("token" not in row for row in listed)
    with runtime.transaction() as session:
        hashes = session.scalars(select(ApiToken.token_hash)).all()
    assert value not in hashes
    assert fingerprint(value) in hashes

    assert client.get("/api/v1/me", headers=bearer(value)).status_code == 200
    revoked = client.delete(f"/api/v1/tokens/{created.json()['id']}", headers=bearer(admin))
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    after = client.get("/api/v1/me", headers=bearer(value))
    assert after.status_code == 401
    assert after.json()["detail"] == "the API token is unknown or revoked"


def test_se1_token_for_an_undeclared_role_is_refused(runtime: Runtime, client: TestClient) -> None:
    admin = add_token(runtime, "admin")
    refused = client.post(
        "/api/v1/tokens", json={"name": "x", "role": "root"}, headers=bearer(admin)
    )
    assert refused.status_code == 422
    assert "unknown role 'root'" in refused.json()["detail"]
    missing = client.delete("/api/v1/tokens/424242", headers=bearer(admin))
    assert missing.status_code == 404


def test_se1_console_creates_and_revokes_tokens(runtime: Runtime, client: TestClient) -> None:
    user_id = add_user(runtime, "keys.keeper@lumeninsights.example", "admin")
    cookie, token = session_for(runtime, user_id)
    client.cookies.set("troth_session", cookie)
    page = client.post(
        "/console/tokens", data={"name": "exporter", "role": "analyst", "csrf_token": token}
    )
    assert page.status_code == 200
    assert "not shown again" in page.text
    with runtime.transaction() as session:
        made = session.scalars(select(ApiToken)).one()
    start = page.text.index("troth_")
    value = page.text[start : page.text.index("<", start)]
    assert fingerprint(value) == made.token_hash
    assert value not in client.get("/console/tokens").text
    revoke = client.post(
        f"/console/tokens/{made.id}/revoke", data={"csrf_token": form_token(page.text)}
    )
    assert revoke.status_code == 200
    assert client.get("/api/v1/me", headers=bearer(value)).status_code == 401
