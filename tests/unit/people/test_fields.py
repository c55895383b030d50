"""Checking and normalising what people give (CO1): each problem names its field."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.conftest import EXAMPLE_POLICY
from troth.errors import Unprocessable
from troth.people.cleaners import Hints
from troth.people.fields import check_declared, clean_values, decode
from troth.policy.loader import load_policy

TODAY = dt.date(2026, 11, 2)
NO_HINT = Hints(country=None, today=TODAY)


def test_co1_values_are_normalised() -> None:
    cleaned = clean_values(
        {
            "name": "  Ada   Lovelace ",
            "email": "Ada.Lovelace@EXAMPLE.com",
            "phone": "(415) 555-2671",
            "fax": "+49 30 901820",
            "country": "us",
            "region": "us-ca",
            "date_of_birth": "1990-12-10",
            "age": "35",
            "postal_address": {"line1": "1 Main St", "city": "Springfield", "country": "us"},
        },
        NO_HINT,
    )
    assert cleaned["name"] == "Ada Lovelace"
    assert cleaned["email"] == "Ada.Lovelace@example.com"
    assert cleaned["phone"] == "+14155552671"  # the country given is the region hint
    assert cleaned["fax"] == "+4930901820"
    assert (cleaned["country"], cleaned["region"]) == ("US", "US-CA")
    assert cleaned["age"] == "35"
    address = cleaned["postal_address"]
    assert address is not None
    assert json.loads(address) == {"line1": "1 Main St", "city": "Springfield", "country": "US"}
    assert decode("postal_address", address) == json.loads(address)
    assert decode("age", "35") == 35


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "not-an-address", "email: not a valid email address"),
        ("phone", "12345", "phone: not a phone number"),
        ("phone", "+1 555 000 0000", "phone: not a valid phone number"),
        ("country", "XX", "country: not an ISO 3166-1"),
        ("country", "USA", "country: not an ISO 3166-1"),
        ("region", "US-ZZ", "region: not an ISO 3166-2"),
        ("date_of_birth", "2030-01-01", "date_of_birth: must not be in the future"),
        ("date_of_birth", "10/12/1990", "date_of_birth: not a date"),
        ("age", 400, "age: must be a whole number"),
        ("name", "", None),
        ("name", 42, "name: must be text"),
        ("postal_address", {"line1": "x"}, "postal_address: city, country missing"),
        ("postal_address", {"street": "x"}, "postal_address: unknown part street"),
        ("company", "Card 4539 1488 0343 6467 Ltd", "company: card numbers are not accepted"),
        ("favourite_colour", "blue", "favourite_colour: unknown field"),
    ],
)
def test_co1_bad_values_are_422_naming_the_field(
    field: str, value: object, message: str | None
) -> None:
    if message is None:  # empty means "no value", not an error
        assert clean_values({field: value}, NO_HINT) == {field: None}
        return
    with pytest.raises(Unprocessable) as caught:
        clean_values({field: value}, NO_HINT)
    assert caught.value.status_code == 422
    assert message in caught.value.message


def test_co1_every_problem_is_reported_at_once() -> None:
    with pytest.raises(Unprocessable) as caught:
        clean_values({"email": "nope", "country": "ZZ"}, NO_HINT)
    assert "email:" in caught.value.message
    assert "country:" in caught.value.message


def test_co1_region_must_lie_in_the_country() -> None:
    with pytest.raises(Unprocessable, match="region: US-AL is not in DE"):
        clean_values({"country": "DE", "region": "US-AL"}, NO_HINT)


def test_co1_international_phone_numbers_are_not_mistaken_for_cards() -> None:
    # 8613800138002 passes the Luhn check; written after + it is a phone number
    cleaned = clean_values({"phone": "+86 138 0013 8002", "name": "+86 138 0013 8002"}, NO_HINT)
    assert cleaned["phone"] == "+8613800138002"


def test_co1_only_declared_categories_from_declared_sources() -> None:
    declaration = load_policy(EXAMPLE_POLICY).declaration
    check_declared(declaration, ["name", "email", "demographics.role"], "given")
    with pytest.raises(Unprocessable, match="email: 'email' is not declared to come from"):
        check_declared(declaration, ["email"], "third_party")
    trimmed = declaration.model_copy(
        update={"categories": {k: v for k, v in declaration.categories.items() if k != "fax"}}
    )
    with pytest.raises(Unprocessable, match="fax: the declaration does not declare 'fax'"):
        check_declared(trimmed, ["fax"], "given")
