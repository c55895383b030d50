"""The example declaration, and variants of it, for the consent unit tests."""

from __future__ import annotations

from typing import Any

from tests.conftest import EXAMPLE_POLICY
from troth.policy.loader import load_policy
from troth.policy.schema import Cookie, CookieCategory, Declaration


def example() -> Declaration:
    return load_policy(EXAMPLE_POLICY).declaration


def with_cookies(declaration: Declaration, cookies: list[Cookie]) -> Declaration:
    return declaration.model_copy(update={"cookies": cookies})


def with_consent(declaration: Declaration, **changes: Any) -> Declaration:
    consent = declaration.consent.model_copy(update=changes)
    return declaration.model_copy(update={"consent": consent})


def without(declaration: Declaration, category: CookieCategory) -> Declaration:
    kept = [cookie for cookie in declaration.cookies if cookie.category is not category]
    return with_cookies(declaration, kept)
