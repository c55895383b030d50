"""Customer password rules (SE2, NIST SP 800-63B-4), checked without a database."""

from __future__ import annotations

import pytest

from tests.conftest import EXAMPLE_POLICY
from troth.errors import Unprocessable
from troth.people import accounts
from troth.people.account_routes import RateLimit
from troth.policy.loader import load_policy
from troth.policy.schema import Declaration
from troth.security.passwords import COMMON_REASON

EMAIL = "ada.lovelace@analytical.example"


@pytest.fixture(scope="module")
def declaration() -> Declaration:
    return load_policy(EXAMPLE_POLICY).declaration


def refusal(declaration: Declaration, password: str, *, second_factor: bool = False) -> str:
    with pytest.raises(Unprocessable) as caught:
        accounts.check_password(declaration, password, EMAIL, second_factor=second_factor)
    return caught.value.message


def test_se2_single_factor_minimum_comes_from_the_declaration(
    declaration: Declaration,
) -> None:
    security = declaration.security.model_copy(update={"customer_password_min_length": 20})
    stricter = declaration.model_copy(update={"security": security})
    assert "at least 20" in refusal(stricter, "quiet otter inks")
    accounts.check_password(stricter, "quiet otter inks ahoy", EMAIL, second_factor=False)


def test_se2_fourteen_refused_fifteen_accepted(declaration: Declaration) -> None:
    fourteen, fifteen = "lanternmoss#71", "lanternmoss#712"
    assert len(fourteen) == 14
    assert len(fifteen) == 15
    assert refusal(declaration, fourteen) == "the password must be at least 15 characters long"
    accounts.check_password(declaration, fifteen, EMAIL, second_factor=False)


def test_se2_eight_accepted_with_a_second_factor(declaration: Declaration) -> None:
    accounts.check_password(declaration, "fjord#72", EMAIL, second_factor=True)
    assert "at least 8" in refusal(declaration, "fjord#7", second_factor=True)
    assert "at least 15" in refusal(declaration, "fjord#72")


def test_se2_long_passwords_accepted(declaration: Declaration) -> None:
    long_one = ("marble orchard quietly hums " * 6)[:128]
    assert len(long_one) == 128
    accounts.check_password(declaration, long_one, EMAIL, second_factor=False)


def test_se2_no_composition_rules(declaration: Declaration) -> None:
    accounts.check_password(
        declaration, "velvet tugboats wander slowly", EMAIL, second_factor=False
    )


def test_se2_common_password_refused_with_the_reason(declaration: Declaration) -> None:
    assert refusal(declaration, "1qaz2wsx3edc4rfv") == COMMON_REASON
    assert refusal(declaration, "trustno1", second_factor=True) == COMMON_REASON


def test_se2_password_built_on_the_email_refused(declaration: Declaration) -> None:
    assert "built on your email" in refusal(declaration, "ada.lovelace2026!")


def test_se2_strength_estimate_scores_and_warns(declaration: Declaration) -> None:
    weak = accounts.strength(declaration, "password1", EMAIL)
    strong = accounts.strength(declaration, "velvet tugboats wander slowly past 9 piers", EMAIL)
    assert weak.score <= 1
    assert weak.warning
    assert weak.problem is not None
    assert strong.score == 4
    assert strong.problem is None
    assert accounts.strength(declaration, "x" * 500, EMAIL).score >= 0  # longer than zxcvbn takes


def test_se2_strength_rate_limit_counts_per_address() -> None:
    limit = RateLimit(limit=3, window=60)
    assert [limit.allow("a", 0.0) for _ in range(4)] == [True, True, True, False]
    assert limit.allow("b", 1.0)
    assert limit.allow("a", 61.0)
