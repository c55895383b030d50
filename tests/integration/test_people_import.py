"""`troth people import` on SQLite and PostgreSQL: provenance of imported values (CO2) and
combining third-party data only where the declaration and the person allow it (US1)."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner, Result

from tests.unit.people.support import ADMIN, people_context, storage_holds
from troth.audit import service as audit_service
from troth.audit.models import AuditEntry
from troth.cli import app as troth_app
from troth.people import service
from troth.people.context import PeopleContext
from troth.people.import_batch import ImportJob
from troth.people.import_report import Outcome, Report
from troth.people.import_rules import resolve_source
from troth.people.importing import run_import
from troth.people.models import Person, PersonStatus
from troth.people.values import PersonView
from troth.policy.guard import Subject
from troth.runtime import Runtime
from troth.security.clock import utcnow

ADA = "ada@analytical.example"
GRACE = "grace@navy.example"
CARD = "4111 1111 1111 1111"
HEADER = ["email", "name", "company", "phone", "fax", "demographics.role"]


@pytest.fixture
def ctx(runtime: Runtime) -> PeopleContext:
    return people_context(runtime)


@pytest.fixture
def cli(runtime: Runtime, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    settings = runtime.settings
    monkeypatch.setenv("TROTH_CONFIG", str(tmp_path / "no-such-troth.toml"))
    monkeypatch.setenv("TROTH_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("TROTH_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("TROTH_POLICY_FILE", str(settings.policy_file))
    return CliRunner()


def given(runtime: Runtime, ctx: PeopleContext, email: str, name: str, company: str) -> str:
    values = {"email": email, "name": name, "company": company, "country": "GB"}
    with runtime.transaction() as session:
        view = service.create_person(session, ctx, ADMIN, values, purpose="deliver_services")
    return view.public_id


def read(runtime: Runtime, ctx: PeopleContext, public_id: str, purpose: str) -> PersonView:
    with runtime.transaction() as session:
        return service.get_person(session, ctx, ADMIN, public_id, purpose=purpose)


def find(runtime: Runtime, ctx: PeopleContext, email: str) -> list[str]:
    with runtime.transaction() as session:
        found = service.find_by_email(session, ctx, ADMIN, email, purpose="deliver_services")
        return [person.public_id for person in found]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def run_cli(cli: CliRunner, *args: str) -> Result:
    return cli.invoke(troth_app, ["people", "import", *args])


def firmographics_rows() -> list[list[str]]:
    return [
        [ADA, "", "Other Co", "+44 20 7946 0958", "", "Head of Mathematics"],  # 2: updated
        ["nobody@nowhere.example", "", "Nowhere Ltd", "", "", ""],  # 3: unknown person
        [GRACE, "", "", "", "+1 202 555 0143", ""],  # 4: fax is not supplied
        [GRACE, "", "", "12345", "", ""],  # 5: invalid phone
        [GRACE, CARD, "", "", "", ""],  # 6: a card number
        [GRACE, "", "Navy Labs", "", "", ""],  # 7: updated
    ]


def test_co2_csv_from_a_data_source_updates_known_people_and_rejects_the_rest(
    runtime: Runtime, ctx: PeopleContext, cli: CliRunner, tmp_path: Path
) -> None:
    ada = given(runtime, ctx, ADA, "Ada Lovelace", "Analytical Engines Ltd")
    grace = given(runtime, ctx, GRACE, "Grace Hopper", "")
    path = write_csv(tmp_path / "firmographics.csv", HEADER, firmographics_rows())
    report = tmp_path / "rejected.csv"

    result = run_cli(cli, str(path), "--source", "firmographics", "--report", str(report))

    assert result.exit_code == 0, result.output
    assert "6 rows: 0 added, 2 updated, 0 unchanged, 4 rejected" in result.output
    assert "fax: source 'firmographics' does not supply fax (rows 4)" in result.output
    rejected = list(csv.reader(report.open()))
    assert rejected[0] == ["row", "reason"]
    reasons = {int(number): reason for number, reason in rejected[1:]}
    assert sorted(reasons) == [3, 4, 5, 6]
    assert reasons[3].startswith("no person has this email")
    assert reasons[5] == "phone: not a valid phone number"
    assert "card number" in reasons[6]
    assert "4111" not in report.read_text()
    assert storage_holds(runtime, CARD) == []
    assert storage_holds(runtime, CARD.replace(" ", "")) == []
    assert find(runtime, ctx, "nobody@nowhere.example") == []

    combined = read(runtime, ctx, ada, "combine_third_party")
    assert combined.values["company"] == "Analytical Engines Ltd"  # the person's own value wins
    assert combined.provenance["company"].source == "given"
    assert combined.values["demographics.role"] == "Head of Mathematics"
    assert combined.values["phone"] == "+442079460958"
    for name in ("phone", "demographics.role"):
        assert combined.provenance[name].source == "third_party:firmographics"
        assert combined.provenance[name].method == "import:firmographics.csv"
    navy = read(runtime, ctx, grace, "combine_third_party")
    assert navy.values["company"] == "Navy Labs"
    assert "phone" not in navy.values
    assert "name" in navy.values

    again = run_cli(cli, str(path), "--source", "firmographics")
    assert "0 added, 0 updated, 2 unchanged, 4 rejected" in again.output


def test_co2_json_array_and_json_lines_are_imported(
    runtime: Runtime, ctx: PeopleContext, cli: CliRunner, tmp_path: Path
) -> None:
    ada = given(runtime, ctx, ADA, "Ada Lovelace", "")
    grace = given(runtime, ctx, GRACE, "Grace Hopper", "")
    array = tmp_path / "directory.json"
    array.write_text(
        json.dumps(
            [
                {
                    "email": ADA,
                    "company": "Analytical Engines",
                    "postal_address": {"line1": "1 Way", "city": "London", "country": "GB"},
                },
                {"email": GRACE, "phone": "not a phone"},
                {"email": GRACE, "company": f"Card {CARD}"},
                ["not", "an", "object"],
            ]
        )
    )
    lines = tmp_path / "directory.jsonl"
    lines.write_text(f'{{"email": "{GRACE}", "demographics.company_size": "11-50"}}\n\n{{oops\n')

    first = run_cli(cli, str(array), "--source", "firmographics")
    second = run_cli(cli, str(lines), "--source", "firmographics")

    assert first.exit_code == 0, first.output
    assert "4 rows: 0 added, 1 updated, 0 unchanged, 3 rejected" in first.output
    assert "not a JSON object (rows 4)" in first.output
    assert second.exit_code == 0, second.output
    assert "2 rows: 0 added, 1 updated, 0 unchanged, 1 rejected" in second.output
    assert "not a JSON object (rows 3)" in second.output
    assert storage_holds(runtime, CARD) == []
    view = read(runtime, ctx, ada, "combine_third_party")
    assert view.values["postal_address"] == {"line1": "1 Way", "city": "London", "country": "GB"}
    assert view.provenance["postal_address"].method == "import:directory.json"
    size = read(runtime, ctx, grace, "combine_third_party").provenance["demographics.company_size"]
    assert (size.source, size.method) == ("third_party:firmographics", "import:directory.jsonl")


def test_us1_given_source_creates_people_with_their_provenance(
    runtime: Runtime, ctx: PeopleContext, cli: CliRunner, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "sign ups.csv",
        [
            "email",
            "name",
            "country",
            "postal_address.line1",
            "postal_address.city",
            "postal_address.country",
        ],
        [
            ["Ada@Analytical.example", "Ada Lovelace", "GB", "12 Crescent", "London", "GB"],
            [GRACE, "Grace Hopper", "", "", "", ""],
            [ADA, "Ada King", "", "", "", ""],
        ],
    )

    result = run_cli(cli, str(path), "--source", "given")

    assert result.exit_code == 0, result.output
    assert "3 rows: 2 added, 1 updated, 0 unchanged, 0 rejected" in result.output
    [ada] = find(runtime, ctx, ADA)
    view = read(runtime, ctx, ada, "deliver_services")
    assert view.values["name"] == "Ada King"
    assert view.values["email"] == "Ada@analytical.example"
    assert view.values["postal_address"] == {
        "line1": "12 Crescent",
        "city": "London",
        "country": "GB",
    }
    assert view.jurisdiction == "GB"
    assert {p.source for p in view.provenance.values()} == {"given"}
    assert {p.method for p in view.provenance.values()} == {"import:sign_ups.csv"}
    assert len(find(runtime, ctx, GRACE)) == 1


def test_us1_given_data_is_not_replaced_and_older_data_does_not_replace_newer(
    runtime: Runtime, ctx: PeopleContext, cli: CliRunner, tmp_path: Path
) -> None:
    ada = given(runtime, ctx, ADA, "Ada Lovelace", "Analytical Engines Ltd")
    new = write_csv(
        tmp_path / "new.csv", ["email", "name", "phone"], [[ADA, "A. King", "+44 20 7946 0958"]]
    )
    old = write_csv(tmp_path / "old.csv", ["email", "phone"], [[ADA, "+44 20 7946 0000"]])

    assert run_cli(cli, str(new), "--source", "firmographics").exit_code == 0
    stale = run_cli(cli, str(old), "--source", "firmographics", "--as-of", "2020-01-01")

    assert "1 unchanged" in stale.output
    view = read(runtime, ctx, ada, "combine_third_party")
    assert view.values["name"] == "Ada Lovelace"
    assert view.values["phone"] == "+442079460958"
    assert view.provenance["phone"].method == "import:new.csv"


def test_us1_people_who_objected_or_await_a_guardian_are_skipped(
    runtime: Runtime, ctx: PeopleContext, tmp_path: Path
) -> None:
    ada = given(runtime, ctx, ADA, "Ada Lovelace", "")
    grace = given(runtime, ctx, GRACE, "Grace Hopper", "")
    alan = given(runtime, ctx, "alan@bletchley.example", "Alan Turing", "")
    with runtime.transaction() as session:
        session.execute(
            update(Person)
            .where(Person.public_id == alan)
            .values(status=PersonStatus.awaiting_guardian.value)
        )
    rows = [[email, "Big Co"] for email in (ADA, GRACE, "alan@bletchley.example")]
    path = write_csv(tmp_path / "directory.csv", ["email", "company"], rows)
    source = resolve_source(runtime.declaration, "firmographics", path.name, utcnow())

    def objections(_session: object, person: Person) -> Subject:
        objected = frozenset({"combine_third_party"}) if person.public_id == grace else frozenset()
        return replace(service.subject_of(person), objected=objected)

    job = ImportJob(path, source, subject_of=objections)
    report = run_import(runtime, ctx, job, Report())

    assert report.counts[Outcome.updated] == 1
    assert report.reasons["the person opted out of 'combine_third_party'"].first_rows == [3]
    assert report.reasons["the person awaits a guardian's consent"].first_rows == [4]
    assert read(runtime, ctx, ada, "combine_third_party").values["company"] == "Big Co"
    assert "company" not in read(runtime, ctx, grace, "combine_third_party").values
    with runtime.transaction() as session:
        denied = session.scalars(
            select(AuditEntry.subject_id).where(
                AuditEntry.action == "person.import", AuditEntry.outcome == "denied"
            )
        ).all()
    assert set(denied) == {grace, alan}


def test_co2_an_undeclared_source_or_a_bad_header_is_refused(
    runtime: Runtime, ctx: PeopleContext, cli: CliRunner, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "x.csv", ["email", "company"], [[ADA, "Co"]])
    bad = write_csv(tmp_path / "bad.csv", ["email", "shoe_size", "colour"], [[ADA, "9", "red"]])

    undeclared = run_cli(cli, str(path), "--source", "acme")
    header = run_cli(cli, str(bad), "--source", "firmographics")
    missing = run_cli(cli, str(tmp_path / "missing.csv"), "--source", "firmographics")

    assert undeclared.exit_code == 1
    assert undeclared.output == (
        "error: source 'acme' is not declared; declared data sources: firmographics (or given)\n"
    )
    assert header.exit_code == 1
    assert header.output.startswith("error: unknown column 'shoe_size', 'colour';")
    assert len(header.output.splitlines()) == 1
    assert missing.exit_code == 1
    assert missing.output.startswith("error: cannot read")


def test_co2_a_file_broken_midway_keeps_the_batches_before_it(
    runtime: Runtime, ctx: PeopleContext, cli: CliRunner, tmp_path: Path
) -> None:
    emails = [f"person{n}@example.com" for n in range(5)]
    items = ",".join(
        json.dumps({"email": email, "name": f"Person {n}"}) for n, email in enumerate(emails)
    )
    path = tmp_path / "broken.json"
    path.write_text(f'[{items}, {{"email": ')

    result = run_cli(cli, str(path), "--source", "given", "--batch-size", "2")

    assert result.exit_code == 1
    assert "5 rows: 5 added" in result.output
    assert "stopped: not JSON after the last element read" in result.output
    assert all(len(find(runtime, ctx, email)) == 1 for email in emails)


def by_phone(runtime: Runtime, ctx: PeopleContext, phone: str) -> list[str]:
    with runtime.transaction() as session:
        found = service.find_by_phone(session, ctx, ADMIN, phone, purpose="combine_third_party")
        return [person.public_id for person in found]


def test_co2_a_newer_phone_replaces_the_blind_index_of_the_older_one(
    runtime: Runtime, ctx: PeopleContext, cli: CliRunner, tmp_path: Path
) -> None:
    ada = given(runtime, ctx, ADA, "Ada Lovelace", "")
    grace = given(runtime, ctx, GRACE, "Grace Hopper", "")
    old = write_csv(
        tmp_path / "old.csv",
        ["email", "phone"],
        [[ADA, "+44 20 7946 0000"], [GRACE, "+1 202 555 0100"]],
    )
    new = write_csv(tmp_path / "new.csv", ["email", "phone"], [[ADA, "+44 20 7946 0958"]])

    older = run_cli(cli, str(old), "--source", "firmographics", "--as-of", "2020-01-01")
    assert older.exit_code == 0, older.output
    assert by_phone(runtime, ctx, "+442079460000") == [ada]
    newer = run_cli(cli, str(new), "--source", "firmographics", "--batch-size", "1")

    assert "1 rows: 0 added, 1 updated" in newer.output
    assert by_phone(runtime, ctx, "+442079460958") == [ada]
    assert by_phone(runtime, ctx, "+442079460000") == []
    assert by_phone(runtime, ctx, "+12025550100") == [grace]


def test_se1_an_import_audits_each_person_once_and_the_chain_stays_intact(
    runtime: Runtime, ctx: PeopleContext, cli: CliRunner, tmp_path: Path
) -> None:
    given(runtime, ctx, ADA, "Ada Lovelace", "")  # audited on its own, between the batches
    emails = [f"person{n}@example.com" for n in range(5)]
    path = write_csv(
        tmp_path / "sign ups.csv",
        ["email", "name"],
        [[email, f"Person {n}"] for n, email in enumerate(emails)] + [[ADA, "Ada King"]],
    )

    result = run_cli(cli, str(path), "--source", "given", "--batch-size", "2")

    assert "6 rows: 5 added, 1 updated" in result.output
    with runtime.transaction() as session:
        imported = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "person.import").order_by(AuditEntry.id)
        ).all()
        people = set(session.scalars(select(Person.public_id)).all())
    assert [entry.outcome for entry in imported] == ["allowed"] * 6
    assert {entry.subject_id for entry in imported} == people
    assert {entry.categories for entry in imported} == {"email,name", "name"}
    assert audit_service.verify(runtime.sessions).intact
