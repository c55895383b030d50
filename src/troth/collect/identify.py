"""Identify tokens: short-lived proof, asked for by the business's backend, that the visitor
on a page is a given signed-in person (US1, CO2).

A token reads `i1.<person public id>.<expiry, unix seconds>.<mac>`, where the MAC is
HMAC-SHA256, under the installation secret "identify-tokens", over a label, the public id,
the site and the expiry. The site is not written in the token: the collector recomputes the
MAC with the site the hit was sent for, so a token made for one site does nothing on another.

Signed, not encrypted: the only value in clear is the person's public id, a random UUID that
tells nothing about them and that the business's own page already knows for its signed-in
customer. Checking a token is one HMAC (about a microsecond) and no database access, so the
collector's hot path stays as it was. Whether a valid token may actually link is decided
later, at ingest, in `troth.collect.linking`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass, field

from troth.keys import KeyStore

IDENTIFY_SECRET = "identify-tokens"  # noqa: S105 (the secret's name, not a secret)
PREFIX = "i1"
LIFETIME = dt.timedelta(minutes=10)
CLOCK_SKEW = dt.timedelta(minutes=1)
MAX_TOKEN_CHARS = 200
PUBLIC_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_EXPIRY = re.compile(r"[0-9]{1,12}")


@dataclass(frozen=True, slots=True)
class Signer:
    """HMAC-SHA256 over a label and some text parts, URL-safe base64 without padding."""

    key: bytes = field(repr=False)
    label: bytes

    def sign(self, *parts: str) -> str:
        message = b"\x00".join((self.label, *(part.encode() for part in parts)))
        digest = hmac.new(self.key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def valid(self, mac: str, *parts: str) -> bool:
        return hmac.compare_digest(mac.encode(), self.sign(*parts).encode())


@dataclass(frozen=True, slots=True)
class Issued:
    token: str
    expires_at: dt.datetime


class IdentifyTokens:
    def __init__(self, key: bytes) -> None:
        self._signer = Signer(key, b"troth identify token v1")

    @classmethod
    def of(cls, keys: KeyStore) -> IdentifyTokens:
        return cls(keys.secret(IDENTIFY_SECRET))

    def mint(self, public_id: str, site: str, now: dt.datetime) -> Issued:
        if not PUBLIC_ID.fullmatch(public_id):
            raise ValueError("an identify token names a person by their public id")
        expiry = str(int((now + LIFETIME).timestamp()))
        mac = self._signer.sign(public_id, site, expiry)
        expires_at = dt.datetime.fromtimestamp(int(expiry), dt.UTC)
        return Issued(f"{PREFIX}.{public_id}.{expiry}.{mac}", expires_at)

    def person_of(self, token: str, site: str, now: dt.datetime) -> str | None:
        """The person's public id when the token is genuine, made for `site` and unexpired."""
        parts = token.split(".") if len(token) <= MAX_TOKEN_CHARS else []
        if len(parts) != 4 or parts[0] != PREFIX:
            return None
        _, public_id, expiry, mac = parts
        if not PUBLIC_ID.fullmatch(public_id) or not _EXPIRY.fullmatch(expiry):
            return None
        if not _in_window(int(expiry), now):
            return None
        return public_id if self._signer.valid(mac, public_id, site, expiry) else None


def _in_window(expiry: int, now: dt.datetime) -> bool:
    """Not expired, and not lasting longer than a token this code makes could."""
    moment = now.timestamp()
    return moment <= expiry <= moment + (LIFETIME + CLOCK_SKEW).total_seconds()
