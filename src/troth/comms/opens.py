"""Email opens (CO5): a web beacon in the HTML part, only for recipients who may be tracked.

A message carries `<img src="{base_url}/p.gif?m=<token>">` when, at sending time, the
declaration declares an email beacon, the message is for a person Troth keeps (not a
guardian or another bare address), that person is active (not awaiting a guardian, not
suspended: CH1), and the guard allows the beacon's purpose for them (they did not object).
The token is `m1.<message id>.<mac>`, HMAC-SHA256 under the installation secret
"message-opens": it names the message and nothing else.

When the pixel is fetched the same rule is asked again (someone may have objected since the
mail went out). An allowed open adds to the message's row in `message_opens`: the time of
the first open and a count. Nothing about the reader is kept: no address, no user agent.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from markupsafe import escape
from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from troth.collect.identify import Signer
from troth.comms.models import Message
from troth.comms.templates import Rendered
from troth.db import Base
from troth.errors import TrothError
from troth.keys import KeyStore
from troth.people import repository as people_repository
from troth.people.models import PersonStatus
from troth.people.subjects import subject_for
from troth.policy.guard import Actor, Guard
from troth.policy.schema import BeaconPlace, Declaration

if TYPE_CHECKING:
    from troth.runtime import Runtime

log = logging.getLogger(__name__)

MESSAGE_SECRET = "message-opens"  # noqa: S105 (the secret's name, not a secret)
PREFIX = "m1"
PIXEL_PATH = "/p.gif"
OPEN_CATEGORIES = ("access_times",)
"""What an open records: when the message was read."""
OPENER = Actor.system("email-opens")
_MESSAGE_ID = re.compile(r"[0-9a-f]{32}")
MAX_TOKEN_CHARS = 120


class MessageOpen(Base):
    __tablename__ = "message_opens"

    message_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    first_opened_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    opens: Mapped[int] = mapped_column(Integer)


class MessageTokens:
    def __init__(self, key: bytes) -> None:
        self._signer = Signer(key, b"troth message open v1")

    @classmethod
    def of(cls, keys: KeyStore) -> MessageTokens:
        return cls(keys.secret(MESSAGE_SECRET))

    def token_for(self, message_id: str) -> str:
        return f"{PREFIX}.{message_id}.{self._signer.sign(message_id)}"

    def message_of(self, token: str) -> str | None:
        """The message id of a genuine token; None for anything else."""
        parts = token.split(".") if len(token) <= MAX_TOKEN_CHARS else []
        if len(parts) != 3 or parts[0] != PREFIX or not _MESSAGE_ID.fullmatch(parts[1]):
            return None
        return parts[1] if self._signer.valid(parts[2], parts[1]) else None


def beacon_purpose(declaration: Declaration) -> str | None:
    """The purpose of the declared email beacon; None when no email beacon is declared."""
    for beacon in declaration.beacons:
        if beacon.place is BeaconPlace.email:
            return beacon.purpose
    return None


def may_track(
    session: Session, guard: Guard, declaration: Declaration, person_id: str | None
) -> bool:
    """Whether the recipient of a message may be counted opening it, right now."""
    purpose = beacon_purpose(declaration)
    if purpose is None or person_id is None:
        return False
    person = people_repository.by_public_id(session, person_id)
    if person is None or person.status != PersonStatus.active:
        return False
    subject = subject_for(person)
    return guard.check(OPENER, purpose, OPEN_CATEGORIES, subject).allowed


def pixel_url(session: Session, runtime: Runtime, message: Message) -> str:
    """The beacon's address for this message, or "" when its recipient may not be tracked."""
    if not may_track(session, runtime.guard, runtime.declaration, message.person_id):
        return ""
    token = MessageTokens.of(runtime.keys).token_for(message.id)
    return f"{runtime.settings.base_url}{PIXEL_PATH}?m={token}"


def with_pixel(rendered: Rendered, url: str) -> Rendered:
    """The message with the beacon at the end of its HTML body (unchanged for no url)."""
    if not url:
        return rendered
    tag = f'<img src="{escape(url)}" width="1" height="1" alt="" style="display:block;border:0">'
    html = rendered.html
    at = html.rfind("</body>")
    html = html[:at] + tag + "\n" + html[at:] if at >= 0 else html + tag
    return replace(rendered, html=html)


def record_open(session: Session, runtime: Runtime, message_id: str, now: dt.datetime) -> bool:
    """Count one open of a message if its recipient may be tracked now; True when counted."""
    message = session.get(Message, message_id)
    if message is None:
        return False
    if not may_track(session, runtime.guard, runtime.declaration, message.person_id):
        return False
    stmt = _insert(session).values(message_id=message_id, first_opened_at=now, opens=1)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["message_id"], set_={"opens": MessageOpen.opens + 1}
        )
    )
    return True


def record_open_now(runtime: Runtime, message_id: str) -> None:
    """Record an open in a transaction of its own; a failure is logged, never raised (the
    reader's mail client gets its image either way)."""
    runtime.guard  # noqa: B018  (read the declaration before the write transaction)
    try:
        with runtime.transaction() as session:
            record_open(session, runtime, message_id, dt.datetime.now(dt.UTC))
    except (SQLAlchemyError, TrothError) as exc:
        log.error("message %s: open not recorded (%s)", message_id, type(exc).__name__)


def _insert(session: Session) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(MessageOpen)
    return sqlite.insert(MessageOpen)
