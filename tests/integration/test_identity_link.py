"""Identity links (US1, CH1, CO2): a signed-in customer's visits carry their person id only
where the declaration and the person allow it; on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from tests.unit.people.support import ADMIN, people_context
from tests.unit.security.support import add_token
from troth.app import create_app
from troth.collect import linking
from troth.collect.identify import IdentifyTokens
from troth.collect.ingest import Ingester
from troth.collect.journal import seal_all
from troth.collect.models import StoredEvent
from troth.people import guardians, service
from troth.people.models import Person, PersonStatus
from troth.policy.guard import Subject
from troth.runtime import Runtime

SITE = "lumeninsights.example"
ORIGIN = f"https://{SITE}"
VID = "0123456789abcdef0123456789abcdef"
CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
HEADERS = {"user-agent": CHROME}


@pytest.fixture
def http(runtime: Runtime) -> TestClient:
    people_context(runtime)
    return TestClient(create_app(runtime.settings, runtime), client=("81.2.69.142", 50000))


def new_person(runtime: Runtime, status: PersonStatus = PersonStatus.active) -> str:
    ctx = people_context(runtime)
    with runtime.transaction() as session:
        view = service.create_person(
            session, ctx, ADMIN, {"name": "Ada Lovelace"}, purpose="deliver_services"
        )
        public_id = view.public_id
        session.execute(
            update(Person).where(Person.public_id == public_id).values(status=status.value)
        )
    return public_id


def token_for(runtime: Runtime, public_id: str, site: str = SITE, minutes_ago: int = 0) -> str:
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago)
    return IdentifyTokens.of(runtime.keys).mint(public_id, site, now).token


def collect(http: TestClient, token: str, *, consent: bool = True, **fields: object) -> None:
    body: dict[str, object] = {"site": SITE, "url": f"{ORIGIN}/app", "idt": token, **fields}
    if consent:
        body.update(consent=True, vid=VID)
    response = http.post("/api/collect", content=orjson.dumps(body), headers=HEADERS)
    assert response.status_code == 202, response.text


def stored(runtime: Runtime) -> list[StoredEvent]:
    seal_all()
    Ingester.for_runtime(runtime).run_once()
    with runtime.transaction() as session:
        return list(session.scalars(select(StoredEvent).order_by(StoredEvent.id)))


def test_us1_a_valid_identify_token_links_the_visitors_events(
    runtime: Runtime, http: TestClient
) -> None:
    ada = new_person(runtime)
    analyst = {"Authorization": f"Bearer {add_token(runtime, 'analyst')}"}
    minted = http.post("/api/v1/identify-tokens", json={"person": ada}, headers=analyst)
    assert minted.status_code == 201, minted.text
    assert minted.json()["site"] == SITE

    collect(http, minted.json()["token"])
    collect(http, minted.json()["token"], kind="event", name="feature_used")
    collect(http, "")

    assert [e.person_id for e in stored(runtime)] == [ada, ada, None]


def test_us1_a_cookieless_hit_with_a_valid_token_is_not_linked(
    runtime: Runtime, http: TestClient
) -> None:
    ada = new_person(runtime)

    collect(http, token_for(runtime, ada), consent=False)
    collect(http, token_for(runtime, ada), consent=True)  # GPC wins over the flag:
    http.post(
        "/api/collect",
        content=orjson.dumps({"site": SITE, "url": ORIGIN, "consent": True, "vid": VID,
                              "idt": token_for(runtime, ada)}),
        headers={**HEADERS, "sec-gpc": "1"},
    )  # fmt: skip

    events = stored(runtime)
    assert [(e.cookieless, e.person_id) for e in events] == [
        (True, None),
        (False, ada),
        (True, None),
    ]


def test_us1_a_cookieless_row_is_never_linked_even_if_it_names_a_person(
    runtime: Runtime,
) -> None:
    """The rule holds at ingest too, whatever wrote the journal."""
    ada = new_person(runtime)
    rows = [{"person_id": ada, "cookieless": True}, {"person_id": ada, "cookieless": False}]

    with runtime.transaction() as session:
        linking.before_insert(session, rows)

    assert [row["person_id"] for row in rows] == [None, ada]


@pytest.mark.parametrize("case", ["expired", "forged", "other_site", "garbage"])
def test_us1_an_expired_forged_or_other_site_token_is_ignored(
    runtime: Runtime, http: TestClient, case: str
) -> None:
    ada = new_person(runtime)
    genuine = token_for(runtime, ada)
    token = {
        "expired": token_for(runtime, ada, minutes_ago=11),
        "forged": genuine[:-2] + ("AA" if not genuine.endswith("AA") else "BB"),
        "other_site": token_for(runtime, ada, site="elsewhere.example"),
        "garbage": "not a token",
    }[case]

    collect(http, token)

    (event,) = stored(runtime)  # still counted, only not linked
    assert event.person_id is None


@pytest.mark.parametrize("status", [PersonStatus.awaiting_guardian, PersonStatus.suspended])
def test_ch1_a_held_persons_events_are_not_linked(
    runtime: Runtime, http: TestClient, status: PersonStatus
) -> None:
    minor = new_person(runtime, status)

    collect(http, token_for(runtime, minor))

    (event,) = stored(runtime)
    assert event.person_id is None


def test_ch1_no_identify_token_is_given_for_a_minor_awaiting_a_guardian(
    runtime: Runtime, http: TestClient
) -> None:
    minor = new_person(runtime, PersonStatus.awaiting_guardian)
    admin = {"Authorization": f"Bearer {add_token(runtime, 'admin')}"}

    refused = http.post("/api/v1/identify-tokens", json={"person": minor}, headers=admin)

    assert refused.status_code == 403
    assert "awaits a guardian" in refused.json()["detail"]


def test_us1_a_person_who_objected_is_not_linked(
    runtime: Runtime, http: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada, grace = new_person(runtime), new_person(runtime)
    plain = guardians.subject_for

    def objecting(person: Person) -> Subject:
        subject = plain(person)
        if person.public_id != grace:
            return subject
        return dataclasses.replace(subject, objected=frozenset({linking.LINK_PURPOSE}))

    monkeypatch.setattr(linking, "subject_for", objecting)
    collect(http, token_for(runtime, ada))
    collect(http, token_for(runtime, grace))

    assert [e.person_id for e in stored(runtime)] == [ada, None]


def test_us1_a_token_for_someone_who_does_not_exist_links_nothing(
    runtime: Runtime, http: TestClient
) -> None:
    collect(http, token_for(runtime, "7d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d"))

    (event,) = stored(runtime)
    assert event.person_id is None


def test_us1_erasure_finds_exactly_the_linked_events_through_the_index(
    runtime: Runtime, http: TestClient
) -> None:
    ada, grace = new_person(runtime), new_person(runtime)
    for who in (ada, grace, ada):
        collect(http, token_for(runtime, who))
    collect(http, "")
    events = stored(runtime)
    expected = [e.id for e in events if e.person_id == ada]

    with runtime.transaction() as session:
        found = session.scalars(
            select(StoredEvent.id).where(StoredEvent.person_id == ada).order_by(StoredEvent.id)
        ).all()
        plan = _plan(session, ada)

    assert list(found) == expected
    assert len(expected) == 2
    assert "ix_events_person_id" in plan


def _plan(session: Session, person_id: str) -> str:
    query = "SELECT id FROM events WHERE person_id = :person_id"
    if session.get_bind().dialect.name == "sqlite":
        rows = session.execute(text(f"EXPLAIN QUERY PLAN {query}"), {"person_id": person_id})
        return " ".join(str(row[-1]) for row in rows)
    session.execute(text("SET LOCAL enable_seqscan = off"))  # a tiny table would be scanned
    rows = session.execute(text(f"EXPLAIN {query}"), {"person_id": person_id})
    return " ".join(str(row[0]) for row in rows)


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"person": "ada@example.org"}, 422, "public id"),
        ({"person": "7d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d"}, 404, "no person"),
        ({"person": "@", "site": "elsewhere.example"}, 422, "not a site"),
    ],
)
def test_bad_identify_token_requests_say_what_is_wrong(
    runtime: Runtime, http: TestClient, body: dict[str, str], status: int, words: str
) -> None:
    admin = {"Authorization": f"Bearer {add_token(runtime, 'admin')}"}

    response = http.post("/api/v1/identify-tokens", json=body, headers=admin)

    assert response.status_code == status
    assert words in response.json()["detail"]


def test_us1_a_role_that_may_not_act_for_the_purpose_gets_no_token(
    runtime: Runtime, http: TestClient
) -> None:
    ada = new_person(runtime)
    support = {"Authorization": f"Bearer {add_token(runtime, 'support')}"}

    refused = http.post("/api/v1/identify-tokens", json={"person": ada}, headers=support)

    assert refused.status_code == 403
    assert "may not act for purpose 'understand_experience'" in refused.json()["detail"]


def test_a_subdomain_names_its_declared_site(runtime: Runtime, http: TestClient) -> None:
    ada = new_person(runtime)
    admin = {"Authorization": f"Bearer {add_token(runtime, 'admin')}"}

    minted = http.post(
        "/api/v1/identify-tokens", json={"person": ada, "site": "app." + SITE}, headers=admin
    )

    assert minted.status_code == 201
    assert minted.json()["site"] == SITE
