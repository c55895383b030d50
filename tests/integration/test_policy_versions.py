"""Publishing immutable policy versions (PC1), reading them back, and the CLI around them."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

import troth.cli.policy_versions  # noqa: F401  (registers its commands on the policy app)
from troth.cli.policy import app as policy_app
from troth.errors import Conflict, NotFound
from troth.policy import service
from troth.policy.loader import LoadedPolicy, content_hash, parse_policy
from troth.policy.models import PolicyVersion
from troth.runtime import Runtime

EXAMPLE = (Path(__file__).parents[2] / "src" / "troth" / "policy" / "example.yaml").read_text()
NOW = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)
LONGER_IP = ("    retention_days: 30\n", "    retention_days: 60\n")
NEXT_DATE = ("last_updated: 2026-11-01", "last_updated: 2026-12-01")


def policy(*replacements: tuple[str, str]) -> LoadedPolicy:
    text = EXAMPLE
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return parse_policy(text)


def publish(runtime: Runtime, loaded: LoadedPolicy, now: dt.datetime = NOW) -> PolicyVersion:
    with runtime.transaction() as session:
        return service.publish(session, loaded, "test:publisher", now)


def test_first_publish_stores_version_1_with_everything(runtime: Runtime) -> None:
    loaded = policy()
    version = publish(runtime, loaded)
    assert version.number == 1
    with runtime.transaction() as session:
        stored = service.get(session, 1)
        assert stored.content_hash == loaded.content_hash
        assert stored.last_updated == dt.date(2026, 11, 1)
        assert stored.effective_date == dt.date(2026, 11, 1)
        assert stored.published_by == "test:publisher"
        assert stored.source == EXAMPLE
        assert json.loads(stored.declaration)["organization"]["short_name"] == "Lumen"
        assert service.declaration_of(stored) == loaded.declaration


def test_declared_effective_date_is_kept(runtime: Runtime) -> None:
    later = policy(
        ("last_updated: 2026-11-01", "last_updated: 2026-11-01\neffective_date: 2026-12-01")
    )
    assert publish(runtime, later).effective_date == dt.date(2026, 12, 1)


def test_pc1_publishing_an_unchanged_declaration_twice_is_refused(runtime: Runtime) -> None:
    publish(runtime, policy())
    with pytest.raises(Conflict, match="already published as version 1"):
        publish(runtime, policy())


def test_pc1_a_change_without_a_new_last_updated_date_is_refused(runtime: Runtime) -> None:
    publish(runtime, policy())
    expected = "the declaration changed but last_updated is still 2026-11-01: set a new date"
    with pytest.raises(Conflict) as refused:
        publish(runtime, policy(LONGER_IP))
    assert refused.value.message == expected


def test_pc1_a_change_with_a_new_date_is_published_and_history_shows_both(
    runtime: Runtime,
) -> None:
    publish(runtime, policy())
    second = publish(runtime, policy(LONGER_IP, NEXT_DATE), NOW + dt.timedelta(days=30))
    assert second.number == 2
    with runtime.transaction() as session:
        rows = service.history(session)
        assert [(v.number, v.last_updated.isoformat()) for v in rows] == [
            (2, "2026-12-01"),
            (1, "2026-11-01"),
        ]
        latest = service.latest(session)
        assert latest is not None
        assert latest.number == 2
        assert service.declaration_of(latest).categories["ip"].retention_days == 60


def test_pc1_a_date_earlier_than_the_latest_is_refused(runtime: Runtime) -> None:
    publish(runtime, policy())
    with pytest.raises(Conflict, match="earlier than version 1's 2026-11-01"):
        publish(
            runtime, policy(LONGER_IP, ("last_updated: 2026-11-01", "last_updated: 2026-10-01"))
        )


def test_a_missing_version_is_not_found_with_a_clear_message(runtime: Runtime) -> None:
    with runtime.transaction() as session, pytest.raises(NotFound, match="nothing is published"):
        service.get(session, 1)
    publish(runtime, policy())
    with runtime.transaction() as session, pytest.raises(NotFound, match="versions 1 to 1 exist"):
        service.get(session, 99)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda text: text.replace('"retention_days":30', '"retention_days":3000'),
        lambda text: text[:-5],
    ],
    ids=["changed-value", "broken-json"],
)
def test_a_tampered_stored_version_is_refused(runtime: Runtime, tamper: object) -> None:
    publish(runtime, policy())
    with runtime.transaction() as session:
        stored = service.get(session, 1)
        altered = tamper(stored.declaration)  # type: ignore[operator]
        assert altered != stored.declaration
        session.execute(
            update(PolicyVersion).where(PolicyVersion.number == 1).values(declaration=altered)
        )
    with runtime.transaction() as session:
        with pytest.raises(Conflict, match="policy version 1 was altered after publication"):
            service.declaration_of(service.get(session, 1))
        with pytest.raises(Conflict, match="altered"):
            service.published(session)


def test_a_tampered_last_updated_column_is_refused(runtime: Runtime) -> None:
    publish(runtime, policy())
    with runtime.transaction() as session:
        session.execute(update(PolicyVersion).values(last_updated=dt.date(2027, 1, 1)))
    with runtime.transaction() as session, pytest.raises(Conflict, match="Last Updated date"):
        service.declaration_of(service.get(session, 1))


def test_stored_json_hashes_to_the_content_hash(runtime: Runtime) -> None:
    publish(runtime, policy())
    with runtime.transaction() as session:
        stored = service.get(session, 1)
        assert content_hash(service.declaration_of(stored)) == stored.content_hash


# --- the CLI -------------------------------------------------------------------------------


@pytest.fixture
def cli(runtime: Runtime, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    settings = runtime.settings
    monkeypatch.setenv("TROTH_CONFIG", str(tmp_path / "no-such-troth.toml"))
    monkeypatch.setenv("TROTH_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("TROTH_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("TROTH_POLICY_FILE", str(settings.policy_file))
    return CliRunner()


def edit_policy_file(runtime: Runtime, *replacements: tuple[str, str]) -> None:
    path = runtime.settings.policy_file
    text = path.read_text()
    for old, new in replacements:
        text = text.replace(old, new)
    path.write_text(text)


def test_pc1_cli_publish_history_and_refusal(runtime: Runtime, cli: CliRunner) -> None:
    first = cli.invoke(policy_app, ["publish"])
    assert first.exit_code == 0, first.output
    assert first.output == "published version 1 (Last Updated 2026-11-01)\n"
    again = cli.invoke(policy_app, ["publish"])
    assert again.exit_code == 1
    assert isinstance(again.exception, Conflict)
    assert again.exception.message == "already published as version 1"
    edit_policy_file(runtime, LONGER_IP, NEXT_DATE)
    second = cli.invoke(policy_app, ["publish"])
    assert second.output == "published version 2 (Last Updated 2026-12-01)\n"
    listing = cli.invoke(policy_app, ["history"]).output.splitlines()
    assert [line.split()[0] for line in listing] == ["2", "1"]
    assert "by cli:" in listing[0]


def test_cli_diff_between_a_version_and_the_file(runtime: Runtime, cli: CliRunner) -> None:
    assert cli.invoke(policy_app, ["publish"]).exit_code == 0
    edit_policy_file(runtime, LONGER_IP)
    result = cli.invoke(policy_app, ["diff", "1", "current", "--text"])
    assert result.exit_code == 0, result.output
    assert "version 1 -> current (" in result.output
    assert ": 1 change\n~ categories.ip.retention_days: 30 -> 60\n" in result.output
    assert "+| IP address | 60 days |" in result.output
    same = cli.invoke(policy_app, ["diff", "1", "1"])
    assert same.output == "version 1 -> version 1: no changes\n"
    bad = cli.invoke(policy_app, ["diff", "one", "current"])
    assert bad.exit_code == 1
    assert "give a version number or `current`" in str(bad.exception)


def test_cli_render_prints_markdown_or_writes_both_files(
    runtime: Runtime, cli: CliRunner, tmp_path: Path
) -> None:
    printed = cli.invoke(policy_app, ["render"])
    assert printed.output.startswith("**Last Updated:** November 1, 2026\n")
    out = tmp_path / "site"
    written = cli.invoke(policy_app, ["render", "--out", str(out)])
    assert written.exit_code == 0, written.output
    assert (out / "privacy.md").read_text() == printed.output
    assert '<h2 id="who-we-are">' in (out / "privacy.html").read_text()
