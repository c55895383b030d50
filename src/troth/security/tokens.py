"""Random secrets and their one-way fingerprints: session cookies, API tokens, CSRF tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets

API_TOKEN_PREFIX = "troth_"  # noqa: S105 (a label, not a secret)


def new_secret() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def new_api_token() -> str:
    return API_TOKEN_PREFIX + new_secret()


def fingerprint(value: str) -> str:
    """What is stored in place of a secret: its sha256, hex."""
    return hashlib.sha256(value.encode()).hexdigest()


def pseudonym(kind: str, value: str) -> str:
    """A hash of an email or address for throttling; the value itself is never stored."""
    return hashlib.sha256(f"troth-throttle:{kind}:{value}".encode()).hexdigest()


def csrf_token(secret: str) -> str:
    return hmac.new(secret.encode(), b"console-form", hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
