"""Which sources an import accepts, and what each row may bring."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import EXAMPLE_POLICY
from troth.errors import BadRequest
from troth.people.import_report import Outcome, Report, RowResult
from troth.people.import_rows import Row
from troth.people.import_rules import CARD_REASON, Candidate, method_for, resolve_source, screen
from troth.policy.loader import load_policy
from troth.policy.schema import Declaration

NOW = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def declaration() -> Declaration:
    return load_policy(EXAMPLE_POLICY).declaration


def test_co2_an_undeclared_source_is_refused_naming_the_declared_ones(
    declaration: Declaration,
) -> None:
    with pytest.raises(BadRequest) as caught:
        resolve_source(declaration, "data_broker", "x.csv", NOW)
    assert caught.value.message == (
        "source 'data_broker' is not declared; declared data sources: firmographics (or given)"
    )


def test_co2_a_data_source_supplies_only_its_declared_third_party_categories(
    declaration: Declaration,
) -> None:
    source = resolve_source(declaration, "firmographics", "dir.csv", NOW)
    assert source.supplied == {"company", "demographics", "postal_address", "phone", "name"}
    assert source.purpose == "combine_third_party"
    assert (source.origin.source, source.origin.method) == (
        "third_party:firmographics",
        "import:dir.csv",
    )
    assert not source.creates
    given = resolve_source(declaration, "given", "signups.csv", NOW)
    assert {"email", "fax", "company"} <= given.supplied
    assert given.creates
    assert given.purpose == "deliver_services"


def test_co2_an_undeclared_purpose_is_refused(declaration: Declaration) -> None:
    with pytest.raises(BadRequest, match="purpose 'gossip' is not declared"):
        resolve_source(declaration, "given", "x.csv", NOW, "gossip")


def test_co2_the_method_names_the_file_in_the_characters_a_method_may_hold() -> None:
    assert method_for("sign ups (May).csv") == "import:sign_ups_May_.csv"
    assert method_for("x" * 200) == "import:" + "x" * 90


def test_us1_rows_are_refused_whole_with_a_reason(declaration: Declaration) -> None:
    source = resolve_source(declaration, "firmographics", "dir.csv", NOW)

    def reason(cells: dict[str, object]) -> object:
        return screen(Row(2, cells), source)

    assert reason({"company": "Co"}) == "no email to match the row to a person"
    assert reason({"email": "not an address", "company": "Co"}) == (
        "email: not a valid email address"
    )
    assert reason({"email": "a@example.com", "fax": "+1 202 555 0143"}) == (
        "fax: source 'firmographics' does not supply fax"
    )
    assert reason({"email": "a@example.com", "company": "4111-1111-1111-1111"}) == CARD_REASON
    assert reason({"email": "a@example.com", "postal_address": {"line1": "4111111111111111"}}) == (
        CARD_REASON
    )
    assert reason({"email": "a@example.com"}) == "nothing to import besides the email"
    assert reason({"email": "A@Example.com", "company": "Co"}) == Candidate(
        2, "A@example.com", {"company": "Co"}
    )


def test_us1_a_given_row_keeps_its_email_to_store(declaration: Declaration) -> None:
    source = resolve_source(declaration, "given", "signups.csv", NOW)
    screened = screen(Row(3, {"email": "a@example.com", "fax": "+1 202 555 0143"}), source)
    assert isinstance(screened, Candidate)
    assert screened.cells == {"email": "a@example.com", "fax": "+1 202 555 0143"}


def test_co2_the_report_groups_reasons_with_their_first_rows() -> None:
    written: list[tuple[int, str]] = []
    report = Report(on_reject=lambda number, reason: written.append((number, reason)))
    report.add(
        [RowResult(n, Outcome.rejected, "phone: not a valid phone number") for n in range(2, 10)]
    )
    report.add([RowResult(10, Outcome.added), RowResult(11, Outcome.rejected, "other")])
    assert report.lines() == [
        "10 rows: 1 added, 0 updated, 0 unchanged, 9 rejected",
        "  8 rejected: phone: not a valid phone number (rows 2, 3, 4, 5, 6, ...)",
        "  1 rejected: other (rows 11)",
    ]
    assert len(written) == 9
