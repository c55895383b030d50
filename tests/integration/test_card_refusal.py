"""A card number or security code anywhere in a request is refused with 422, and no digit of
it reaches the database or the logs (CO1: card payment information only as tokens)."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from tests.unit.people.support import people_context, raw_database_bytes, storage_holds
from tests.unit.security.support import (
    FakeClock,
    add_token,
    add_user,
    app_with_clock,
    session_for,
)
from troth.people.cards import REFUSAL
from troth.runtime import Runtime

CARD = "4539148803436467"
SPACED = "4539 1488 0343 6467"
MIDDLE = "14880343"
"""Digits of the card that no other value in these tests holds."""


@pytest.fixture
def client(runtime: Runtime) -> TestClient:
    people_context(runtime)
    return TestClient(app_with_clock(runtime, FakeClock()))


def test_co1_card_number_is_refused_everywhere_and_never_stored_or_logged(
    runtime: Runtime, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    api = {"Authorization": f"Bearer {add_token(runtime, 'admin')}"}
    cookie, csrf = session_for(runtime, add_user(runtime, "ops@lumeninsights.example", "admin"))
    client.cookies.set("troth_session", cookie)
    people = "/api/v1/people?purpose=deliver_services"
    attempts = [
        client.post(people, json={"values": {"name": SPACED}}, headers=api),
        client.post(people, json={"values": {"postal_address": {"line2": CARD}}}, headers=api),
        client.post(people, json={"values": {"name": "Ada"}, "card": int(CARD)}, headers=api),
        client.post(people, json={"values": {"name": "Ada"}, "cvc": "123"}, headers=api),
        client.post(
            "/console/people",
            data={"csrf_token": csrf, "purpose": "deliver_services", "company": SPACED},
        ),
        client.post(
            f"/api/v1/people?purpose=deliver_services&note={CARD}",
            json={"values": {"name": "Ada"}},
            headers=api,
        ),
        client.post(
            "/api/v1/people?purpose=deliver_services",
            files={"upload": ("people.csv", f"name,card\nAda,{SPACED}\n", "text/csv")},
            headers=api,
        ),
        client.put(people, content=f"card {CARD}", headers={**api, "content-type": "text/plain"}),
    ]
    for answer in attempts:
        assert answer.status_code == 422
        assert answer.json() == {"detail": REFUSAL}
    assert storage_holds(runtime, MIDDLE) == []
    assert MIDDLE.encode() not in raw_database_bytes(runtime)
    logged = "\n".join(record.getMessage() for record in caplog.records) + caplog.text
    assert MIDDLE not in logged
    assert client.get(people, headers=api).json()["total"] == 0


def test_co1_requests_without_card_numbers_pass(runtime: Runtime, client: TestClient) -> None:
    api = {"Authorization": f"Bearer {add_token(runtime, 'admin')}"}
    made = client.post(
        "/api/v1/people?purpose=deliver_services",
        json={"values": {"name": "Ada", "phone": "+86 138 0013 8002"}},
        headers=api,
    )
    assert made.status_code == 201, made.text


def test_co1_collector_endpoints_are_exempt(runtime: Runtime, client: TestClient) -> None:
    answer = client.post("/api/collect", json={"url": f"https://x.example/?c={CARD}"})
    assert answer.status_code != 422 or answer.json().get("detail") != REFUSAL
