"""A real SMTP server on a free loopback port that keeps every message it is given.

Register with `pytest_plugins = ["tests.smtp_server"]` in tests/conftest.py, then ask for the
`smtp_server` fixture. Its `settings()` point Troth's outbox at it.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from troth.comms.settings import SmtpSecurity, SmtpSettings

HOST = "127.0.0.1"


def free_port() -> int:
    """A loopback port nothing listens on (at the moment of asking)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
    return port


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


class Capture:
    """aiosmtpd handler: keep each message, or refuse every recipient when told to."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.refuse_recipients = False

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if self.refuse_recipients:
            return f"550 5.1.1 <{address}>: no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        assert isinstance(parsed, EmailMessage)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self) -> None:
        self.capture = Capture()
        self.port = free_port()
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[Received]:
        return self.capture.received

    def start(self) -> None:
        if self._controller is None:
            self._controller = Controller(self.capture, hostname=HOST, port=self.port)
            self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def settings(self, **changes: Any) -> SmtpSettings:
        """Outbox settings for this server: no TLS, a short timeout."""
        values: dict[str, Any] = {
            "host": HOST,
            "port": self.port,
            "security": SmtpSecurity.none,
            "from_address": "",
            "timeout": 5.0,
        }
        values.update(changes)
        return SmtpSettings(**values)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def unused_port() -> int:
    """A loopback port with no server on it: an SMTP server that is down."""
    return free_port()
