"""Email opens (CO5, CH1, US1): a beacon only in mail to people who may be tracked, and an
open counted only while that is still so; on SQLite and PostgreSQL with a real SMTP server."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tests.unit.people.support import ADMIN, people_context, storage_holds
from troth.app import create_app
from troth.comms import opens as opens_module
from troth.comms import sending
from troth.comms.opens import MessageOpen, MessageTokens
from troth.comms.outbox import Outbox
from troth.comms.service import queue_email
from troth.jobs.registry import Registry
from troth.jobs.worker import run_once
from troth.keys import KeyStore, ensure_master_key, open_key_store
from troth.people import guardians, service
from troth.people.models import Person, PersonStatus
from troth.policy.guard import Actor, Subject
from troth.runtime import Runtime

if TYPE_CHECKING:
    from tests.smtp_server import SmtpServer

ADDRESS = "ada@analytical.example"
CONTEXT = {
    "verification_url": "https://lumeninsights.example/confirm?t=1",
    "expires_on": "15 November 2026",
}
SENDER = Actor.system("tests")
READER_IP = "203.0.113.77"
READER_AGENT = "MailReader/9.1 (reader-fingerprint)"
PIXEL = re.compile(r'<img src="([^"]*/p\.gif\?m=[^"]+)"')


@dataclasses.dataclass
class Mail:
    runtime: Runtime
    outbox: Outbox
    registry: Registry
    smtp: SmtpServer

    def send(self, person_id: str | None) -> tuple[str, str]:
        """Queue and send one message; its id and the HTML part that arrived."""
        with self.runtime.transaction() as session:
            message_id = queue_email(
                session, self.outbox, kind="administrative", to_address=ADDRESS,
                person_id=person_id, template="guardian_consent", context=CONTEXT, actor=SENDER,
            ).id  # fmt: skip
        assert run_once(self.runtime.sessions, self.registry, "w1") == 1
        arrived = self.smtp.messages[-1].message
        parts = {p.get_content_type(): p.get_content() for p in arrived.iter_parts()}
        return message_id, str(parts["text/html"])


@pytest.fixture
def keys(runtime: Runtime) -> Iterator[KeyStore]:
    ensure_master_key(runtime.settings)
    with open_key_store(runtime.settings) as store:
        yield store


@pytest.fixture
def mail(runtime: Runtime, keys: KeyStore, smtp_server: SmtpServer) -> Mail:
    runtime.load_policy()
    outbox = Outbox.for_runtime(runtime, keys, smtp_server.settings())
    registry = Registry()
    sending.register(registry, outbox)
    return Mail(runtime, outbox, registry, smtp_server)


@pytest.fixture
def reader(runtime: Runtime) -> TestClient:
    app = create_app(runtime.settings, runtime)
    return TestClient(app, client=(READER_IP, 40000), headers={"user-agent": READER_AGENT})


def new_person(runtime: Runtime, status: PersonStatus = PersonStatus.active) -> str:
    ctx = people_context(runtime)
    with runtime.transaction() as session:
        view = service.create_person(
            session, ctx, ADMIN, {"name": "Ada Lovelace", "email": ADDRESS}, purpose="support"
        )
        session.execute(
            update(Person).where(Person.public_id == view.public_id).values(status=status.value)
        )
    return view.public_id


def object_for(monkeypatch: pytest.MonkeyPatch, public_id: str) -> None:
    """The person objects to the purpose the email beacon serves."""
    plain = guardians.subject_for

    def objecting(person: Person) -> Subject:
        subject = plain(person)
        if person.public_id != public_id:
            return subject
        return dataclasses.replace(subject, objected=frozenset({"understand_experience"}))

    monkeypatch.setattr(opens_module, "subject_for", objecting)


def opens(runtime: Runtime) -> list[tuple[str, int, dt.datetime]]:
    with runtime.transaction() as session:
        rows = session.scalars(select(MessageOpen)).all()
        return [(r.message_id, r.opens, r.first_opened_at) for r in rows]


def open_pixel(reader: TestClient, html: str) -> int:
    found = PIXEL.search(html)
    assert found is not None, "no pixel in the message"
    url = urlsplit(found.group(1).replace("&amp;", "&"))
    response = reader.get(f"{url.path}?{url.query}")
    if response.status_code == 200:
        assert response.headers["content-type"] == "image/gif"
        assert response.headers["cache-control"] == "no-store"
    return int(response.status_code)


def test_co5_mail_to_an_active_person_carries_the_pixel_and_opening_counts_once_each(
    runtime: Runtime, mail: Mail, reader: TestClient
) -> None:
    ada = new_person(runtime)
    message_id, html = mail.send(ada)

    assert f"{runtime.settings.base_url}/p.gif?m=m1.{message_id}." in html
    assert open_pixel(reader, html) == 200
    ((opened_id, count, first),) = opens(runtime)
    assert (opened_id, count) == (message_id, 1)

    assert open_pixel(reader, html) == 200
    assert opens(runtime) == [(message_id, 2, first)]
    for trace in (READER_IP, READER_AGENT, "reader-fingerprint"):
        assert storage_holds(runtime, trace) == [], trace


def test_co5_mail_to_a_guardian_address_carries_no_pixel(runtime: Runtime, mail: Mail) -> None:
    _, html = mail.send(None)

    assert "/p.gif" not in html
    assert "I agree" in html  # the message itself is whole


def test_co5_mail_to_a_person_who_objected_carries_no_pixel(
    runtime: Runtime, mail: Mail, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada = new_person(runtime)
    object_for(monkeypatch, ada)

    _, html = mail.send(ada)

    assert "/p.gif" not in html


def test_ch1_mail_to_a_minor_awaiting_a_guardian_carries_no_pixel(
    runtime: Runtime, mail: Mail
) -> None:
    minor = new_person(runtime, PersonStatus.awaiting_guardian)

    _, html = mail.send(minor)

    assert "/p.gif" not in html


def test_co5_an_open_after_the_person_objected_is_answered_but_not_recorded(
    runtime: Runtime, mail: Mail, reader: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada = new_person(runtime)
    _, html = mail.send(ada)
    object_for(monkeypatch, ada)

    assert open_pixel(reader, html) == 200
    assert opens(runtime) == []


def test_ch1_an_open_after_the_person_was_held_is_not_recorded(
    runtime: Runtime, mail: Mail, reader: TestClient
) -> None:
    ada = new_person(runtime)
    _, html = mail.send(ada)
    with runtime.transaction() as session:
        session.execute(
            update(Person)
            .where(Person.public_id == ada)
            .values(status=PersonStatus.awaiting_guardian.value)
        )

    assert open_pixel(reader, html) == 200
    assert opens(runtime) == []


@pytest.mark.parametrize("kind", ["forged", "malformed", "empty"])
def test_co5_a_forged_or_malformed_message_token_is_a_400_and_nothing_is_recorded(
    runtime: Runtime, mail: Mail, reader: TestClient, kind: str
) -> None:
    ada = new_person(runtime)
    message_id, _ = mail.send(ada)
    genuine = MessageTokens.of(runtime.keys).token_for(message_id)
    token = {
        "forged": genuine[:-2] + ("AA" if not genuine.endswith("AA") else "BB"),
        "malformed": "m1.not-a-message",
        "empty": "",
    }[kind]

    response = reader.get("/p.gif", params={"m": token})

    assert response.status_code == 400
    assert "message token" in response.json()["detail"]
    assert opens(runtime) == []


def test_co5_a_genuine_token_for_a_message_that_is_gone_gets_the_gif_and_records_nothing(
    runtime: Runtime, reader: TestClient
) -> None:
    ensure_master_key(runtime.settings)
    token = MessageTokens.of(runtime.keys).token_for("0" * 32)

    response = reader.get("/p.gif", params={"m": token})

    assert response.status_code == 200
    assert response.content.startswith(b"GIF89a")
    assert opens(runtime) == []
