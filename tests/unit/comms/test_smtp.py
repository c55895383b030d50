"""Building the MIME message and delivering it to a real SMTP server on loopback."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from email.headerregistry import Address
from email.message import EmailMessage
from typing import TYPE_CHECKING

import pytest

from troth.comms import smtp
from troth.comms.settings import SmtpSecurity, SmtpSettings
from troth.comms.templates import Rendered

if TYPE_CHECKING:
    from tests.smtp_server import SmtpServer


TO = "guardian.person@example.org"
RENDERED = Rendered(subject="Hello there", text="Plain words\n", html="<p>Rich words</p>")
WHEN = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def message() -> EmailMessage:
    return smtp.build(
        RENDERED,
        sender=Address("Lumen", addr_spec="support@lumen.example"),
        to=TO,
        message_id="<abc123@lumen.example>",
        date=WHEN,
    )


def test_message_has_the_headers_and_two_alternative_parts() -> None:
    built = message()

    assert built["To"] == TO
    assert built["From"] == "Lumen <support@lumen.example>"
    assert built["Subject"] == "Hello there"
    assert built["Message-ID"] == "<abc123@lumen.example>"
    assert built["Date"] == "Wed, 02 Jan 2030 03:04:05 +0000"
    assert built.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in built.iter_parts()]
    assert parts == ["text/plain", "text/html"]


def test_send_delivers_to_the_server(smtp_server: SmtpServer) -> None:
    smtp.send(message(), smtp_server.settings())

    assert len(smtp_server.messages) == 1
    got = smtp_server.messages[0]
    assert got.rcpt_tos == [TO]
    assert got.message["Subject"] == "Hello there"


def test_unreachable_server_raises_send_failed(unused_port: int) -> None:
    settings = SmtpSettings(host="127.0.0.1", port=unused_port, security=SmtpSecurity.none)

    with pytest.raises(smtp.SendFailed, match="could not deliver"):
        smtp.send(message(), settings)


def test_a_refusal_keeps_the_code_and_drops_the_address(smtp_server: SmtpServer) -> None:
    smtp_server.capture.refuse_recipients = True

    with pytest.raises(smtp.SendFailed) as caught:
        smtp.send(message(), smtp_server.settings())

    assert str(caught.value) == "SMTPRecipientsRefused: the server replied 550"
    assert caught.value.__cause__ is None
    assert smtp_server.messages == []


def test_send_works_from_inside_a_running_event_loop(smtp_server: SmtpServer) -> None:
    async def caller() -> None:
        smtp.send(message(), smtp_server.settings())

    # A thread of its own: the test's own thread may already have a loop running.
    thread = threading.Thread(target=asyncio.run, args=(caller(),))
    thread.start()
    thread.join(timeout=10)

    assert len(smtp_server.messages) == 1
