"""Building a MIME message and handing it to an SMTP server with aiosmtplib.

Errors raised here carry the SMTP reply code and the failure's class only: server replies
may quote the recipient's address back, so their text is never kept or logged.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib

from troth.comms.settings import SmtpSecurity, SmtpSettings
from troth.comms.templates import Rendered


class SendFailed(Exception):
    """The SMTP server could not be reached or did not accept the message."""


def build(
    rendered: Rendered,
    *,
    sender: Address,
    to: str,
    message_id: str,
    date: dt.datetime,
) -> EmailMessage:
    message = EmailMessage()
    message["Date"] = format_datetime(date.astimezone(dt.UTC))
    message["Message-ID"] = message_id
    message["From"] = sender
    message["To"] = to
    message["Subject"] = rendered.subject
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


def send(message: EmailMessage, settings: SmtpSettings) -> None:
    """Deliver to the configured server; raise SendFailed on any failure.

    Runs its own event loop: on this thread when none is running here (the job worker),
    otherwise on a thread of its own.
    """
    try:
        _run(message, settings)
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = ", ".join(sorted({str(refused.code) for refused in exc.recipients}))
        raise SendFailed(f"{type(exc).__name__}: the server replied {codes}") from None
    except aiosmtplib.SMTPResponseException as exc:
        raise SendFailed(f"{type(exc).__name__}: the server replied {exc.code}") from None
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise SendFailed(f"{type(exc).__name__}: could not deliver to the SMTP server") from None


def _run(message: EmailMessage, settings: SmtpSettings) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(_send(message, settings))
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, _send(message, settings)).result()


async def _send(message: EmailMessage, settings: SmtpSettings) -> None:
    password = settings.password.get_secret_value() if settings.password else None
    await aiosmtplib.send(
        message,
        hostname=settings.host,
        port=settings.port,
        username=settings.username,
        password=password,
        use_tls=settings.security is SmtpSecurity.ssl,
        start_tls=settings.security is SmtpSecurity.starttls,
        timeout=settings.timeout,
    )
