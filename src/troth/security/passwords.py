"""Password rules and argon2id hashing for console users (SE2).

Rules follow current guidance: a minimum length from the declaration, a generous maximum,
no composition rules, and a refusal of passwords that appear in a list of common or
breached ones (the list bundled with the zxcvbn package, so nothing is fetched at run time).
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from troth.errors import Unprocessable

MAX_LENGTH = 256
COMMON_REASON = "this password is in a list of commonly used or breached passwords; choose another"

hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
"""argon2id at the OWASP baseline: 19 MiB of memory, two passes, one lane."""


@cache
def common_passwords() -> frozenset[str]:
    return frozenset(word.lower() for word in FREQUENCY_LISTS["passwords"])


def problem(password: str, email: str, min_length: int) -> str | None:
    """Why the password may not be used, in one line; None when it may."""
    if len(password) < min_length:
        return f"the password must be at least {min_length} characters long"
    if len(password) > MAX_LENGTH:
        return f"the password must be at most {MAX_LENGTH} characters long"
    lowered = password.lower()
    if lowered in common_passwords():
        return COMMON_REASON
    if _leans_on_email(lowered, email, min_length):
        return "the password is built on your email address; choose another"
    return None


def _leans_on_email(lowered: str, email: str, min_length: int) -> bool:
    """True when what is left without the email's local part would be too short on its own."""
    local_part = email.partition("@")[0].lower()
    if len(local_part) < 3 or local_part not in lowered:
        return False
    return len(lowered.replace(local_part, "")) < min_length


def require_acceptable(password: str, email: str, min_length: int) -> None:
    reason = problem(password, email, min_length)
    if reason:
        raise Unprocessable(reason)


def hash_password(password: str) -> str:
    return hasher.hash(password)


def verify(stored_hash: str, password: str) -> bool:
    try:
        return hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return hasher.check_needs_rehash(stored_hash)


@cache
def _dummy_hash() -> str:
    return hasher.hash("a password nobody has, for timing only")


def spend_equal_time(password: str) -> None:
    """Verify against a throwaway hash so an unknown email costs as much as a known one."""
    verify(_dummy_hash(), password)
