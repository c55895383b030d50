"""Queueing email: check the kind, the address and the values, seal them, and enqueue the send.

The message row and its job are written in the caller's transaction (an outbox): both
exist once it commits, neither if it rolls back.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import Session

from troth.audit.authorize import authorize
from troth.comms import repository, templates
from troth.comms.models import Message, MessageStatus
from troth.comms.outbox import Outbox
from troth.comms.sealing import key_owner
from troth.errors import Unprocessable
from troth.jobs import queue
from troth.people import repository as people_repository
from troth.people.subjects import subject_for
from troth.policy.guard import Actor, Subject
from troth.policy.schema import Declaration, MessageKind

JOB_KIND = "email.send"
MAX_ATTEMPTS = 5
MAX_PERSON_ID_CHARS = 64
CATEGORIES = ("email",)
"""What sending uses: the address. The template's values are the caller's to authorise."""


def message_kind(declaration: Declaration, kind: str) -> MessageKind:
    declared = declaration.message_kinds.get(kind)
    if declared is None:
        known = ", ".join(sorted(declaration.message_kinds)) or "none"
        raise Unprocessable(f"message kind '{kind}' is not declared; declared kinds: {known}")
    return declared


def checked_address(address: str) -> str:
    """The address in normal form; the error never repeats it (it is personal data)."""
    try:
        return validate_email(address.strip(), check_deliverability=False).normalized
    except (EmailNotValidError, AttributeError):
        raise Unprocessable("the recipient is not a valid email address") from None


def queue_email(
    session: Session,
    outbox: Outbox,
    *,
    kind: str,
    to_address: str,
    person_id: str | None,
    template: str,
    context: Mapping[str, Any],
    actor: Actor,
) -> Message:
    """Queue one email for sending by the job worker; returns the queued message."""
    declaration = outbox.declaration
    declared = message_kind(declaration, kind)
    address = checked_address(to_address)
    owner = key_owner(_checked_person_id(person_id))
    templates.render(template, context, declaration.organization)  # fail now, not in the job
    subject = _subject(session, person_id)
    authorize(
        session,
        outbox.guard,
        actor,
        declared.purpose,
        CATEGORIES,
        action="email.queue",
        subject=subject,
    )
    message = _sealed_message(outbox, kind, declared, person_id, owner, address, template, context)
    repository.add(session, message)
    queue.enqueue(session, JOB_KIND, {"message_id": message.id}, max_attempts=MAX_ATTEMPTS)
    return message


def _checked_person_id(person_id: str | None) -> str | None:
    if person_id is not None and not 0 < len(person_id) <= MAX_PERSON_ID_CHARS:
        raise Unprocessable(f"a person id is 1 to {MAX_PERSON_ID_CHARS} characters")
    return person_id


def _sealed_message(
    outbox: Outbox,
    kind: str,
    declared: MessageKind,
    person_id: str | None,
    owner: str,
    address: str,
    template: str,
    context: Mapping[str, Any],
) -> Message:
    message_id = uuid.uuid4().hex
    sealer = outbox.sealer
    values = json.dumps(dict(context), sort_keys=True)
    return Message(
        id=message_id,
        kind=kind,
        promotional=declared.promotional,
        person_id=person_id,
        to_digest=sealer.digest(address),
        recipient=sealer.seal(owner, message_id, "recipient", address),
        template=template,
        context=sealer.seal(owner, message_id, "context", values),
        status=MessageStatus.queued,
        attempts=0,
        created_at=outbox.clock(),
    )


def _subject(session: Session, person_id: str | None) -> Subject | None:
    """The person's view for the guard: a held minor gets no promotional mail (CH1)."""
    if person_id is None:
        return None
    person = people_repository.by_public_id(session, person_id)
    return subject_for(person) if person is not None else Subject(id=person_id)
