"""Password rules and hashing for console users (SE2)."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from troth.errors import Unprocessable
from troth.security import passwords

EMAIL = "dana.whitfield@lumeninsights.example"


def test_se2_too_short_is_refused_with_the_minimum() -> None:
    assert passwords.problem("eleven char", EMAIL, 12) == (
        "the password must be at least 12 characters long"
    )


def test_se2_the_declared_minimum_is_used() -> None:
    assert passwords.problem("a quiet lighthouse", EMAIL, 20) is not None
    assert passwords.problem("a quiet lighthouse", EMAIL, 12) is None


def test_se2_common_or_breached_password_is_refused() -> None:
    listed = next(word for word in passwords.common_passwords() if len(word) >= 12)
    assert passwords.problem(listed, EMAIL, 12) == passwords.COMMON_REASON
    assert passwords.problem(listed.upper(), EMAIL, 12) == passwords.COMMON_REASON


def test_se2_the_common_list_is_bundled_and_large() -> None:
    assert len(passwords.common_passwords()) > 10_000
    assert "password" in passwords.common_passwords()


def test_se2_email_local_part_is_refused() -> None:
    reason = passwords.problem("Dana.Whitfield2026", EMAIL, 12)
    assert reason is not None
    assert "email" in reason


def test_se2_no_composition_rules_and_long_passwords_accepted() -> None:
    long_phrase = "the river keeps its own counsel under the old stone bridge every evening"
    assert len(long_phrase) >= 64
    assert passwords.problem(long_phrase, EMAIL, 12) is None
    assert passwords.problem("x" * 7 + " lowercase only", EMAIL, 12) is None


def test_se2_more_than_256_characters_is_refused() -> None:
    assert passwords.problem("a" * 257, EMAIL, 12) == (
        "the password must be at most 256 characters long"
    )


def test_se2_require_acceptable_raises_with_the_reason() -> None:
    with pytest.raises(Unprocessable, match="at least 12"):
        passwords.require_acceptable("short", EMAIL, 12)


def test_se2_hash_is_argon2id_at_least_the_baseline() -> None:
    stored = passwords.hash_password("a quiet lighthouse at dusk")
    assert stored.startswith("$argon2id$")
    params = dict(part.split("=") for part in stored.split("$")[3].split(","))
    assert int(params["m"]) >= 19456
    assert int(params["t"]) >= 2
    assert int(params["p"]) >= 1
    assert passwords.verify(stored, "a quiet lighthouse at dusk")
    assert not passwords.verify(stored, "a quiet lighthouse at dawn")
    assert not passwords.verify("not a hash", "anything")


def test_se2_weaker_hash_needs_rehash() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("x" * 12)
    assert passwords.needs_rehash(weak)
    assert not passwords.needs_rehash(passwords.hash_password("x" * 12))
