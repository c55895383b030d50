"""The email outbox end to end: queue, the job worker, a real SMTP server, both databases."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select, text

from troth.comms import sending
from troth.comms.models import Message, MessageStatus
from troth.comms.outbox import Outbox
from troth.comms.service import JOB_KIND, MAX_ATTEMPTS, queue_email
from troth.comms.settings import SmtpSecurity, SmtpSettings
from troth.errors import Forbidden, Unprocessable
from troth.jobs.models import Job, JobStatus
from troth.jobs.registry import Registry
from troth.jobs.worker import run_once
from troth.keys import KeyStore, ensure_master_key, open_key_store
from troth.policy.guard import Actor
from troth.runtime import Runtime

if TYPE_CHECKING:
    from tests.smtp_server import SmtpServer


ADDRESS = "ada.guardian@example.org"
NAME = "Ada Quillfeather"
TOKEN = "tok9f8e7d6c5b4a3210"
LINK = f"https://lumeninsights.example/guardian/confirm?token={TOKEN}"
CONTEXT = {"verification_url": LINK, "expires_on": "15 November 2026", "young_person_name": NAME}
GUARDIAN_FLOW = Actor.system("guardian")
PERSONAL = (ADDRESS, NAME, TOKEN)


@dataclass
class Mail:
    runtime: Runtime
    outbox: Outbox
    registry: Registry

    def queue(self, **changes: Any) -> str:
        values: dict[str, Any] = {
            "kind": "administrative",
            "to_address": ADDRESS,
            "person_id": None,
            "template": "guardian_consent",
            "context": CONTEXT,
            "actor": GUARDIAN_FLOW,
        }
        values.update(changes)
        with self.runtime.transaction() as session:
            return queue_email(session, self.outbox, **values).id

    def work(self, minutes_later: int = 0) -> int:
        now = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes_later)
        return run_once(self.runtime.sessions, self.registry, "w1", now=now)

    def message(self, message_id: str) -> Message:
        with self.runtime.transaction() as session:
            found = session.get(Message, message_id)
            assert found is not None
            return found

    def jobs(self) -> list[Job]:
        with self.runtime.transaction() as session:
            return list(session.scalars(select(Job).order_by(Job.id)))


@pytest.fixture
def keys(runtime: Runtime) -> Iterator[KeyStore]:
    ensure_master_key(runtime.settings)
    with open_key_store(runtime.settings) as store:
        yield store


def mail_for(runtime: Runtime, keys: KeyStore, smtp: SmtpSettings) -> Mail:
    runtime.load_policy()
    outbox = Outbox.for_runtime(runtime, keys, smtp)
    registry = Registry()
    sending.register(registry, outbox)
    return Mail(runtime, outbox, registry)


@pytest.fixture
def mail(runtime: Runtime, keys: KeyStore, smtp_server: SmtpServer) -> Mail:
    return mail_for(runtime, keys, smtp_server.settings())


def test_ch1_guardian_consent_email_reaches_the_smtp_server_once(
    mail: Mail, smtp_server: SmtpServer
) -> None:
    message_id = mail.queue()

    assert mail.work() == 1
    assert mail.work() == 0

    assert len(smtp_server.messages) == 1
    got = smtp_server.messages[0]
    assert got.rcpt_tos == [ADDRESS]
    assert got.message["To"] == ADDRESS
    assert got.message["From"] == "Lumen <support@lumeninsights.example>"
    # A long subject is folded straight after "Subject:"; unfolding leaves the usual space.
    assert got.message["Subject"].strip() == (
        f"Lumen: please confirm you agree to {NAME} using our services"
    )
    assert got.message["Message-ID"] == f"<{message_id}@lumeninsights.example>"
    assert got.message["Date"]
    parts = {part.get_content_type(): part.get_content() for part in got.message.iter_parts()}
    assert set(parts) == {"text/plain", "text/html"}
    assert LINK in parts["text/plain"]
    assert f'href="{LINK}"' in parts["text/html"]

    sent = mail.message(message_id)
    assert sent.status == MessageStatus.sent
    assert sent.attempts == 1
    assert sent.sent_at is not None
    assert sent.last_error is None
    assert [(job.kind, job.status, job.payload) for job in mail.jobs()] == [
        (JOB_KIND, JobStatus.done, {"message_id": message_id})
    ]


def test_sending_a_sent_message_again_sends_nothing(mail: Mail, smtp_server: SmtpServer) -> None:
    message_id = mail.queue()
    mail.work()

    with mail.runtime.transaction() as session:
        sending.deliver(session, mail.outbox, message_id)

    assert len(smtp_server.messages) == 1


def test_us1_an_undeclared_message_kind_is_refused_and_nothing_is_queued(mail: Mail) -> None:
    with pytest.raises(Unprocessable, match="message kind 'newsletter' is not declared") as caught:
        mail.queue(kind="newsletter")

    assert caught.value.status_code == 422
    assert mail.jobs() == []
    with mail.runtime.transaction() as session:
        assert session.scalars(select(Message)).all() == []


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"to_address": "not an address"}, "not a valid email address"),
        ({"template": "welcome"}, "unknown email template"),
        ({"context": {"expires_on": "soon"}}, "needs: verification_url"),
        ({"person_id": "system:mail"}, "reserved"),
    ],
)
def test_bad_input_is_a_422_that_never_repeats_the_address(
    mail: Mail, changes: dict[str, Any], words: str
) -> None:
    with pytest.raises(Unprocessable, match=words) as caught:
        mail.queue(**changes)
    assert "not an address" not in caught.value.message
    assert mail.jobs() == []


def test_us1_a_role_without_the_kinds_purpose_may_not_queue_it(mail: Mail) -> None:
    marketer = Actor(id="console_user:7", roles=frozenset({"marketing"}))

    with pytest.raises(Forbidden, match="may not act for purpose 'service_messages'"):
        mail.queue(actor=marketer)
    assert mail.jobs() == []


def test_us1_promotional_mail_to_a_person_without_their_consent_is_refused(
    mail: Mail, keys: KeyStore
) -> None:
    keys.create_key("p_77")

    with pytest.raises(Forbidden, match="has not consented to 'promotional_messages'"):
        mail.queue(kind="news", person_id="p_77")


def test_the_kinds_promotional_flag_is_copied_onto_the_message(mail: Mail) -> None:
    assert mail.message(mail.queue(kind="news")).promotional is True
    assert mail.message(mail.queue(kind="security_alert")).promotional is False


def test_a_stopped_server_means_a_retry_that_later_succeeds(
    mail: Mail, smtp_server: SmtpServer
) -> None:
    message_id = mail.queue()
    smtp_server.stop()

    assert mail.work() == 1
    waiting = mail.message(message_id)
    assert waiting.status == MessageStatus.queued
    assert waiting.attempts == 1
    assert waiting.last_error is not None
    assert waiting.last_error.startswith("SendFailed: ")
    (job,) = mail.jobs()
    assert job.status == JobStatus.queued
    assert job.last_error is not None
    assert job.last_error.startswith("SendFailed: ")
    assert mail.work() == 0  # waiting out the backoff

    smtp_server.start()
    assert mail.work(minutes_later=10) == 1
    assert len(smtp_server.messages) == 1
    assert mail.message(message_id).status == MessageStatus.sent
    assert mail.message(message_id).attempts == 2


def test_a_wrong_port_fails_the_message_after_the_last_attempt(
    runtime: Runtime, keys: KeyStore, unused_port: int
) -> None:
    down = SmtpSettings(host="127.0.0.1", port=unused_port, security=SmtpSecurity.none, timeout=2)
    mail = mail_for(runtime, keys, down)
    message_id = mail.queue()

    for attempt in range(MAX_ATTEMPTS):
        assert mail.work(minutes_later=10 * attempt) == 1

    failed = mail.message(message_id)
    assert failed.status == MessageStatus.failed
    assert failed.attempts == MAX_ATTEMPTS
    assert failed.last_error == "SendFailed: SMTPConnectError: could not deliver to the SMTP server"
    (job,) = mail.jobs()
    assert job.status == JobStatus.failed
    assert job.attempts == MAX_ATTEMPTS
    assert mail.work(minutes_later=600) == 0


def test_se1_mail_of_an_erased_person_is_never_sent(
    mail: Mail, keys: KeyStore, smtp_server: SmtpServer
) -> None:
    keys.create_key("p_42")
    message_id = mail.queue(kind="security_alert", person_id="p_42")
    keys.destroy("p_42")

    assert mail.work() == 1

    assert smtp_server.messages == []
    erased = mail.message(message_id)
    assert erased.status == MessageStatus.failed
    assert erased.last_error is not None
    assert erased.last_error.startswith("KeyDestroyed")
    assert [job.status for job in mail.jobs()] == [JobStatus.done]


def _stored_rows(runtime: Runtime) -> list[Any]:
    with runtime.engine.connect() as conn:
        values: list[Any] = []
        for table in ("messages", "jobs", "audit_entries"):
            for row in conn.execute(text(f"SELECT * FROM {table}")):
                values.extend(row)
        return values


def _holds(value: Any, needle: str) -> bool:
    if isinstance(value, bytes | memoryview):
        return needle.encode() in bytes(value)
    return needle in str(value)


def test_se1_nothing_personal_is_stored_in_plain_text(mail: Mail) -> None:
    mail.queue()
    mail.work()

    rows = _stored_rows(mail.runtime)
    assert rows
    for needle in PERSONAL:
        assert not any(_holds(value, needle) for value in rows), needle
    if mail.runtime.engine.dialect.name == "sqlite":
        database = Path(str(mail.runtime.engine.url.database))
        for path in (database, Path(f"{database}-wal")):
            raw = path.read_bytes() if path.exists() else b""
            for needle in PERSONAL:
                assert needle.encode() not in raw, (path.name, needle)


def test_se1_no_address_reaches_the_logs(
    mail: Mail, smtp_server: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    mail.queue()
    smtp_server.stop()
    mail.work()
    smtp_server.start()
    mail.work(minutes_later=10)

    assert len(smtp_server.messages) == 1
    ours = [record for record in caplog.records if not record.name.startswith("mail.log")]
    assert any(record.name.startswith("troth.comms") for record in ours)
    for record in ours:
        for needle in PERSONAL:
            assert needle not in record.getMessage(), record.name
