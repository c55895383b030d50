"""The `email.send` job: open a queued message, render it, hand it to SMTP, record the outcome.

The database transaction is ended before talking to the SMTP server, so a slow server never
holds SQLite's write lock. A failed attempt is recorded and committed before the error goes
back to the job queue, which retries with backoff; after the last attempt the message shows
failed. Logs name message ids and kinds only.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from email.headerregistry import Address
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from troth.comms import opens, repository, smtp, templates
from troth.comms.models import Message, MessageStatus
from troth.comms.outbox import Outbox
from troth.comms.sealing import key_owner
from troth.comms.service import JOB_KIND, MAX_ATTEMPTS
from troth.jobs.registry import Registry
from troth.keys import KeyDestroyed
from troth.policy.schema import Organization

log = logging.getLogger(__name__)

ERASED = "KeyDestroyed: the recipient's key was destroyed; the message can no longer be read"


@dataclass(frozen=True)
class Opened:
    """A message ready to render, detached from the session."""

    id: str
    kind: str
    address: str
    template: str
    context: dict[str, Any]
    pixel_url: str = ""
    """The email-open beacon, only when the recipient may be tracked (CO5)."""


def register(registry: Registry, outbox: Outbox) -> None:
    """Let `registry`'s workers send the outbox's mail."""
    registry.register(JOB_KIND, partial(handle, outbox=outbox))


def handle(session: Session, payload: dict[str, Any], *, outbox: Outbox) -> None:
    message_id = payload.get("message_id")
    if not isinstance(message_id, str):
        raise ValueError("an email.send job needs a message_id")
    deliver(session, outbox, message_id)


def deliver(session: Session, outbox: Outbox, message_id: str) -> None:
    """Send the message once; a no-op for a message already sent, failed or gone."""
    try:
        opened = _open(session, outbox, message_id)
        session.rollback()  # end the read before the network; nothing was written
        if opened is None:
            return
        _send(outbox, opened)
    except Exception as exc:
        _record_failure(session, message_id, _describe(exc))
        raise
    _record_sent(session, outbox, opened)


def _open(session: Session, outbox: Outbox, message_id: str) -> Opened | None:
    message = repository.get(session, message_id)
    if message is None or message.status != MessageStatus.queued:
        log.info("message %s: nothing to send", message_id)
        return None
    owner = key_owner(message.person_id)
    sealer = outbox.sealer
    try:
        address = sealer.open(owner, message.id, "recipient", message.recipient)
        values = sealer.open(owner, message.id, "context", message.context)
    except KeyDestroyed:
        _finish(message, MessageStatus.failed, ERASED)
        session.commit()
        log.warning("message %s (%s): recipient erased, not sent", message.id, message.kind)
        return None
    pixel = opens.pixel_url(session, outbox.runtime, message)
    return Opened(message.id, message.kind, address, message.template, json.loads(values), pixel)


def _send(outbox: Outbox, opened: Opened) -> None:
    organization = outbox.declaration.organization
    rendered = templates.render(opened.template, opened.context, organization)
    rendered = opens.with_pixel(rendered, opened.pixel_url)
    sender = sender_address(organization, outbox.smtp.from_address)
    email = smtp.build(
        rendered,
        sender=sender,
        to=opened.address,
        message_id=f"<{opened.id}@{sender.domain}>",
        date=outbox.clock(),
    )
    smtp.send(email, outbox.smtp)


def sender_address(organization: Organization, from_address: str) -> Address:
    """The configured From address, or the support address, under the organisation's name."""
    addr_spec = from_address or str(organization.support_email)
    return Address(display_name=organization.short_name, addr_spec=addr_spec)


def _describe(exc: Exception) -> str:
    # Only SendFailed's text is known to be free of personal data; of others, keep the class.
    if isinstance(exc, smtp.SendFailed):
        return f"SendFailed: {exc}"
    return f"{type(exc).__name__}: sending failed before the SMTP server accepted the message"


def _record_failure(session: Session, message_id: str, error: str) -> None:
    """Commit the attempt now: the job queue rolls the handler's transaction back."""
    session.rollback()
    message = _reload(session, message_id)
    if message is None or message.status != MessageStatus.queued:
        return
    message.attempts += 1
    final = message.attempts >= MAX_ATTEMPTS
    _finish(message, MessageStatus.failed if final else MessageStatus.queued, error)
    session.commit()
    log.warning("message %s (%s): attempt %s failed", message.id, message.kind, message.attempts)


def _record_sent(session: Session, outbox: Outbox, opened: Opened) -> None:
    message = _reload(session, opened.id)
    if message is None:
        return
    message.attempts += 1
    message.sent_at = outbox.clock()
    _finish(message, MessageStatus.sent, None)
    session.flush()
    log.info("message %s (%s) sent", opened.id, opened.kind)


def _reload(session: Session, message_id: str) -> Message | None:
    return session.get(Message, message_id, populate_existing=True)


def _finish(message: Message, status: MessageStatus, error: str | None) -> None:
    message.status = status
    message.last_error = error
