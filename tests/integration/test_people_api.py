"""The people admin API and console pages (CO1, CO2, US1, SC3), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.unit.people.support import people_context
from tests.unit.security.support import (
    FakeClock,
    add_token,
    add_user,
    app_with_clock,
    form_token,
    session_for,
)
from troth.audit.models import AuditEntry
from troth.runtime import Runtime

ADA = {
    "name": "Ada Lovelace",
    "email": "ada@analytical.example",
    "phone": "+1 415 555 2671",
    "company": "Analytical Engines",
    "postal_address": {"line1": "1 Engine Way", "city": "Oakland", "country": "US"},
    "country": "US",
    "region": "US-CA",
}


@pytest.fixture
def client(runtime: Runtime) -> TestClient:
    people_context(runtime)
    return TestClient(app_with_clock(runtime, FakeClock()))


def bearer(runtime: Runtime, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {add_token(runtime, role)}"}


def create(client: TestClient, headers: dict[str, str]) -> str:
    made = client.post(
        "/api/v1/people?purpose=deliver_services", json={"values": ADA}, headers=headers
    )
    assert made.status_code == 201, made.text
    person_id: str = made.json()["id"]
    return person_id


def test_co1_create_read_update_search_through_the_api(
    runtime: Runtime, client: TestClient
) -> None:
    admin = bearer(runtime, "admin")
    person_id = create(client, admin)
    got = client.get(f"/api/v1/people/{person_id}?purpose=deliver_services", headers=admin)
    assert got.status_code == 200
    body = got.json()
    assert body["values"]["phone"] == "+14155552671"
    assert body["values"]["postal_address"]["city"] == "Oakland"
    assert body["provenance"]["email"]["source"] == "given"
    assert body["provenance"]["email"]["method"] == "api"
    assert body["jurisdiction"] == "US-CA"

    patched = client.patch(
        f"/api/v1/people/{person_id}?purpose=combine_third_party",
        json={
            "values": {"name": "A. L.", "demographics.role": "CTO"},
            "source": "third_party:firmographics",
            "method": "import:directory",
        },
        headers=admin,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["changed"] == ["demographics.role"]
    assert "name" in patched.json()["kept"]

    found = client.get("/api/v1/people?purpose=support&email=ADA@analytical.example", headers=admin)
    assert [item["id"] for item in found.json()["items"]] == [person_id]
    by_phone = client.get("/api/v1/people?purpose=support&phone=%2B14155552671", headers=admin)
    assert [item["id"] for item in by_phone.json()["items"]] == [person_id]
    listed = client.get("/api/v1/people?purpose=support", headers=admin).json()
    assert listed["items"][0]["name"] == "Ada Lovelace"


def test_co1_validation_errors_are_422_naming_the_field(
    runtime: Runtime, client: TestClient
) -> None:
    admin = bearer(runtime, "admin")
    for values, field in [
        ({"email": "nope"}, "email"),
        ({"phone": "123"}, "phone"),
        ({"country": "Narnia"}, "country"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({"hobby": "chess"}, "hobby"),
    ]:
        answer = client.post(
            "/api/v1/people?purpose=deliver_services", json={"values": values}, headers=admin
        )
        assert answer.status_code == 422, values
        assert answer.json()["detail"].startswith(f"{field}:"), answer.json()


def test_us1_withheld_categories_and_refused_roles(runtime: Runtime, client: TestClient) -> None:
    person_id = create(client, bearer(runtime, "admin"))
    support = bearer(runtime, "support")
    got = client.get(f"/api/v1/people/{person_id}?purpose=support", headers=support).json()
    assert "postal_address" not in got["values"]
    assert got["withheld"] == ["postal_address"]
    refused = client.get(
        f"/api/v1/people/{person_id}?purpose=promotional_messages", headers=support
    )
    assert refused.status_code == 403
    assert refused.json()["detail"] == "support may not act for purpose 'promotional_messages'"
    with runtime.transaction() as session:
        denied = session.scalars(select(AuditEntry).where(AuditEntry.outcome == "denied")).one()
    assert denied.subject_id == person_id
    assert denied.action == "person.read"
    marketing = client.get(
        f"/api/v1/people/{person_id}?purpose=promotional_messages",
        headers=bearer(runtime, "marketing"),
    )
    assert marketing.status_code == 403  # marketing may not manage people at all


def test_sc3_affiliate_view_through_the_api(runtime: Runtime, client: TestClient) -> None:
    admin = bearer(runtime, "admin")
    person_id = create(client, admin)
    seen = client.get(
        f"/api/v1/people/{person_id}/recipients/lumen_srl?purpose=support", headers=admin
    )
    assert seen.status_code == 200
    assert sorted(seen.json()["values"]) == ["company", "email", "name"]
    unknown = client.get(
        f"/api/v1/people/{person_id}/recipients/someone_else?purpose=support", headers=admin
    )
    assert unknown.status_code == 403


def test_co1_payment_method_through_the_api(runtime: Runtime, client: TestClient) -> None:
    admin = bearer(runtime, "admin")
    person_id = create(client, admin)
    added = client.post(
        f"/api/v1/people/{person_id}/payment-methods?purpose=deliver_services",
        json={
            "processor": "card_processor",
            "token": "tok_visa_5f2a",
            "brand": "visa",
            "last4": "4242",
            "exp_month": 4,
            "exp_year": 2030,
        },
        headers=admin,
    )
    assert added.status_code == 201, added.text
    assert "token" not in added.json()
    got = client.get(f"/api/v1/people/{person_id}?purpose=deliver_services", headers=admin)
    assert got.json()["payment_methods"][0]["last4"] == "4242"


def test_co1_console_create_view_and_edit_with_csrf(runtime: Runtime, client: TestClient) -> None:
    user_id = add_user(runtime, "support.person@lumeninsights.example", "support")
    cookie, csrf = session_for(runtime, user_id)
    client.cookies.set("troth_session", cookie)
    new_page = client.get("/console/people/new")
    assert new_page.status_code == 200
    assert form_token(new_page.text) == csrf
    form = {
        "csrf_token": csrf,
        "purpose": "deliver_services",
        "name": "Grace Hopper",
        "email": "grace@navy.example",
        "phone": "+1 202 555 0143",
        "postal_address.line1": "1 Pier Rd",
        "postal_address.city": "Arlington",
        "postal_address.country": "US",
    }
    made = client.post("/console/people", data=form, follow_redirects=False)
    assert made.status_code == 303, made.text
    location = made.headers["location"]
    shown = client.get(location)
    assert "Grace Hopper" in shown.text
    assert "Arlington" in shown.text
    person_id = location.split("/")[-1].split("?")[0]

    edit = client.get(f"/console/people/{person_id}/edit?purpose=support")
    assert 'value="Grace Hopper"' in edit.text
    assert "postal_address.line1" not in edit.text  # support may not use addresses
    no_csrf = client.post(
        f"/console/people/{person_id}", data={"purpose": "support", "company": "Navy"}
    )
    assert no_csrf.status_code == 403
    edited = client.post(
        f"/console/people/{person_id}",
        data={"csrf_token": csrf, "purpose": "support", "name": "Grace Hopper", "company": "Navy"},
        follow_redirects=False,
    )
    assert edited.status_code == 303
    after = client.get(f"/console/people/{person_id}?purpose=support").text
    assert "Navy" in after
    bad = client.post(
        f"/console/people/{person_id}",
        data={"csrf_token": csrf, "purpose": "support", "email": "not-an-address"},
    )
    assert bad.status_code == 422
    assert "email: not a valid email address" in bad.text
    found = client.get("/console/people?email=grace%40navy.example&purpose=support")
    assert person_id in found.text
