"""The merge rule of combined data (CO2): the person's own word wins, else the newer value."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import EXAMPLE_POLICY
from troth.errors import Unprocessable
from troth.people.provenance import Provenance, check, kind_of, merge
from troth.policy.loader import load_policy

OLD = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
NEW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def given(at: dt.datetime) -> Provenance:
    return Provenance("given", "web_form", at)


def firmographics(at: dt.datetime) -> Provenance:
    return Provenance("third_party:firmographics", "import:directory", at)


def test_co2_first_value_is_taken() -> None:
    assert merge(None, firmographics(OLD)).replace


def test_co2_third_party_never_replaces_what_the_person_gave() -> None:
    verdict = merge(given(OLD), firmographics(NEW))
    assert not verdict.replace
    assert "the person gave" in verdict.reason


def test_co2_what_the_person_gives_replaces_third_party_data() -> None:
    assert merge(firmographics(NEW), given(OLD)).replace


def test_co2_newer_third_party_data_updates_older() -> None:
    assert merge(firmographics(OLD), firmographics(NEW)).replace
    kept = merge(firmographics(NEW), firmographics(OLD))
    assert not kept.replace
    assert kept.reason == "the stored value is newer"


def test_co2_newer_given_value_replaces_older_given_value() -> None:
    assert merge(given(OLD), given(NEW)).replace
    assert not merge(given(NEW), given(OLD)).replace


@pytest.mark.parametrize("source", ["", "third_party", "third_party:", "partner", "GIVEN"])
def test_co2_unknown_source_shapes_are_refused(source: str) -> None:
    with pytest.raises(Unprocessable):
        kind_of(source)


def test_co2_only_declared_sources_for_declared_categories() -> None:
    declaration = load_policy(EXAMPLE_POLICY).declaration
    check(declaration, firmographics(NEW), ["company", "name"])
    with pytest.raises(Unprocessable, match="'brokers' is not declared"):
        check(declaration, Provenance("third_party:brokers", "api", NEW), ["company"])
    with pytest.raises(Unprocessable, match="not declared for email"):
        check(declaration, firmographics(NEW), ["email"])
    with pytest.raises(Unprocessable, match="method"):
        check(declaration, Provenance("given", "Web Form!", NEW), ["name"])
