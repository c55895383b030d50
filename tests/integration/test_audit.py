"""The audit log on SQLite and PostgreSQL: appending, verifying, tampering, guard decisions, CLI."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from troth.audit import service
from troth.audit.authorize import authorize, authorize_action
from troth.audit.chain import GENESIS, digest
from troth.audit.models import AuditEntry
from troth.cli.audit import app
from troth.db import Base
from troth.errors import Forbidden
from troth.policy.guard import Actor, Subject
from troth.policy.schema import Action
from troth.runtime import Runtime

SUPPORT = Actor(id="user:7", roles=frozenset({"support"}))
ANALYST = Actor(id="user:8", roles=frozenset({"analyst"}))
CONTENT = ("at", "actor", "action", "purpose", "subject_id", "categories", "outcome", "reason",
           "prev_hash", "hash")


def append(runtime: Runtime, count: int) -> list[int]:
    ids = []
    for n in range(count):
        with runtime.transaction() as session:
            entry = service.record(
                session,
                actor=f"user:{n}",
                action="person.read",
                outcome="allowed",
                reason="declared for purpose 'support'",
                purpose="support",
                subject_id=100 + n,
                categories=["name", "email"],
            )
            ids.append(entry.id)
    return ids


def all_entries(runtime: Runtime) -> list[AuditEntry]:
    with runtime.transaction() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def change(runtime: Runtime, entry_id: int, **values: Any) -> None:
    with runtime.transaction() as session:
        session.execute(update(AuditEntry).where(AuditEntry.id == entry_id).values(**values))


def test_se1_entries_form_a_chain(runtime: Runtime) -> None:
    ids = append(runtime, 3)
    entries = all_entries(runtime)
    assert [e.id for e in entries] == ids
    assert entries[0].prev_hash == GENESIS
    assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]
    assert entries[0].categories == "email,name"
    assert entries[0].subject_id == "100"
    assert service.verify(runtime.sessions).summary() == "3 entries, chain intact"


def test_se1_verify_walks_across_batches(runtime: Runtime) -> None:
    append(runtime, 7)
    report = service.verify(runtime.sessions, batch_size=2)
    assert report.intact
    assert report.count == 7


def test_se1_audit_changed_reason_is_detected(runtime: Runtime) -> None:
    ids = append(runtime, 4)
    change(runtime, ids[2], reason="nothing happened")
    report = service.verify(runtime.sessions, batch_size=2)
    assert report.problem == f"entry {ids[2]}: hash does not match its contents"
    assert report.broken_id == ids[2]


def test_se1_audit_deleted_middle_row_is_detected(runtime: Runtime) -> None:
    ids = append(runtime, 4)
    with runtime.transaction() as session:
        session.execute(delete(AuditEntry).where(AuditEntry.id == ids[1]))
    report = service.verify(runtime.sessions)
    assert report.problem == (
        f"entry {ids[2]}: does not follow entry {ids[0]} (entry {ids[1]} is missing or reordered)"
    )


def test_se1_audit_swapped_rows_are_detected(runtime: Runtime) -> None:
    ids = append(runtime, 4)
    first, second = all_entries(runtime)[1:3]
    change(runtime, first.id, **{name: getattr(second, name) for name in CONTENT})
    change(runtime, second.id, **{name: getattr(first, name) for name in CONTENT})
    report = service.verify(runtime.sessions)
    assert report.problem == f"entry {ids[1]}: hash does not match its contents"


def test_se1_audit_changed_hash_is_detected(runtime: Runtime) -> None:
    ids = append(runtime, 4)
    change(runtime, ids[1], hash="0" * 63 + "1")
    assert service.verify(runtime.sessions).problem == (
        f"entry {ids[1]}: hash does not match its contents"
    )


def test_se1_audit_edit_with_recomputed_hash_is_detected(runtime: Runtime) -> None:
    ids = append(runtime, 4)
    with runtime.transaction() as session:
        entry = session.get(AuditEntry, ids[1])
        assert entry is not None
        entry.reason = "rewritten"
        entry.hash = digest(service.link_of(entry))
    assert service.verify(runtime.sessions).problem == (
        f"entry {ids[2]}: does not follow entry {ids[1]} "
        f"(entry {ids[1]} was altered, or entries are missing or reordered)"
    )


def test_se1_audit_concurrent_writers_do_not_fork_the_chain(runtime: Runtime) -> None:
    writers, each = 4, 10
    start = threading.Barrier(writers)
    failures: list[BaseException] = []

    def write() -> None:
        try:
            start.wait()
            append(runtime, each)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    report = service.verify(runtime.sessions)
    assert report.summary() == f"{writers * each} entries, chain intact"
    assert len({e.prev_hash for e in all_entries(runtime)}) == writers * each


@pytest.mark.parametrize(
    "fields",
    [
        {"reason": "sent to ann@example.com"},
        {"reason": "card 4111 1111 1111 1111 declined"},
        {"subject_id": "ann@example.com"},
        {"actor": "user:ann@example.com"},
        {"purpose": "4111111111111111"},
        {"categories": ["email", "ann@example.com"]},
        {"categories": ["Name"]},
        {"outcome": "maybe"},
        {"actor": ""},
    ],
)
def test_se1_audit_refuses_personal_values(runtime: Runtime, fields: dict[str, Any]) -> None:
    values: dict[str, Any] = {
        "actor": "user:1", "action": "person.read", "outcome": "allowed", "reason": "ok"
    }
    with pytest.raises(ValueError, match=r"audit |not a valid Outcome"), runtime.transaction() as s:
        service.record(s, **{**values, **fields})
    assert all_entries(runtime) == []


@pytest.mark.parametrize("field", ["reason", "categories"])
def test_se1_refusal_does_not_repeat_the_value(runtime: Runtime, field: str) -> None:
    values: dict[str, Any] = {"actor": "user:1", "action": "x", "outcome": "denied", "reason": "ok"}
    values[field] = ["ann@example.com"] if field == "categories" else "ann@example.com"
    with pytest.raises(ValueError, match="holds an email address") as caught:
        in_request(runtime, lambda session: service.record(session, **values))
    assert "ann@example.com" not in str(caught.value)


def test_se1_allowed_access_is_recorded(runtime: Runtime) -> None:
    with runtime.transaction() as session:
        decision = authorize(
            session, runtime.guard, SUPPORT, "support", ["email", "name"],
            action="person.read", subject=Subject(id="42"),
        )
    assert decision.allowed
    [entry] = all_entries(runtime)
    assert (entry.actor, entry.action, entry.outcome) == ("user:7", "person.read", "allowed")
    assert (entry.purpose, entry.subject_id, entry.categories) == ("support", "42", "email,name")
    assert entry.reason == decision.reason


def test_se1_denied_access_is_recorded_after_the_rollback(runtime: Runtime) -> None:
    guard = runtime.guard  # loads the declaration in a transaction of its own

    def read_person(session: Session) -> None:
        append_in(session, "person.update")  # rolled back with the request
        authorize(
            session, guard, ANALYST, "support", ["email"],
            action="person.read", subject=Subject(id="42"),
        )

    with pytest.raises(Forbidden, match="analyst may not act for purpose 'support'"):
        in_request(runtime, read_person)
    [entry] = all_entries(runtime)
    assert (entry.actor, entry.action, entry.outcome) == ("user:8", "person.read", "denied")
    assert (entry.subject_id, entry.categories) == ("42", "email")
    assert entry.reason == "analyst may not act for purpose 'support'"
    assert service.verify(runtime.sessions).intact


def test_se1_denial_handled_by_the_caller_is_recorded_once(runtime: Runtime) -> None:
    with runtime.transaction() as session, pytest.raises(Forbidden):
        authorize(session, runtime.guard, ANALYST, "support", ["email"], action="person.read")
    assert [e.outcome for e in all_entries(runtime)] == ["denied"]


def test_se1_actions_are_authorized_and_recorded(runtime: Runtime) -> None:
    admin = Actor(id="user:1", roles=frozenset({"admin"}))
    with runtime.transaction() as session:
        assert authorize_action(session, runtime.guard, admin, Action.manage_policy)
    guard = runtime.guard
    with pytest.raises(Forbidden, match="analyst may not manage_policy"):
        in_request(runtime, lambda s: authorize_action(s, guard, ANALYST, Action.manage_policy))
    entries = all_entries(runtime)
    assert [(e.actor, e.action, e.outcome) for e in entries] == [
        ("user:1", "manage_policy", "allowed"),
        ("user:8", "manage_policy", "denied"),
    ]
    assert service.verify(runtime.sessions).intact


def in_request(runtime: Runtime, work: Callable[[Session], object]) -> None:
    with runtime.transaction() as session:
        work(session)


def append_in(session: Session, action: str) -> None:
    service.record(session, actor="user:8", action=action, outcome="allowed", reason="ok")


def invoke(runtime: Runtime, tmp_path: Path, *args: str) -> Result:
    env = {
        "TROTH_DATABASE_URL": runtime.settings.database_url,
        "TROTH_DATA_DIR": str(tmp_path / "data"),
        "TROTH_CONFIG": str(tmp_path / "absent.toml"),
    }
    return CliRunner().invoke(app, list(args), env=env)


def test_se1_cli_verify_reports_an_intact_chain(runtime: Runtime, tmp_path: Path) -> None:
    append(runtime, 3)
    result = invoke(runtime, tmp_path, "verify")
    assert result.exit_code == 0, result.output
    assert result.stdout == "3 entries, chain intact\n"


def test_se1_cli_verify_fails_naming_the_first_broken_entry(
    runtime: Runtime, tmp_path: Path
) -> None:
    ids = append(runtime, 3)
    change(runtime, ids[1], actor="user:99")
    result = invoke(runtime, tmp_path, "verify", "--batch-size", "2")
    assert result.exit_code == 1
    assert result.stderr == f"error: entry {ids[1]}: hash does not match its contents\n"


def test_cli_tail_prints_the_latest_entries(runtime: Runtime, tmp_path: Path) -> None:
    ids = append(runtime, 3)
    result = invoke(runtime, tmp_path, "tail", "-n", "2")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [str(i) for i in ids[1:]]
    assert lines[-1].endswith(
        "user:2 person.read allowed purpose=support subject=102 categories=email,name"
        " - declared for purpose 'support'"
    )


def test_cli_tail_refuses_a_count_below_one(runtime: Runtime, tmp_path: Path) -> None:
    result = invoke(runtime, tmp_path, "tail", "-n", "0")
    assert result.exit_code == 2
    assert "-n" in result.stderr


def test_audit_migration_matches_the_model(runtime: Runtime) -> None:
    with runtime.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diffs if "audit_entries" in repr(d)] == []


# --- record_many: a batch of entries under one lock ----------------------------------------------


def batch_of(count: int, start: int = 0) -> list[service.Entry]:
    return [
        service.Entry(
            actor="system:cli",
            action="person.import",
            outcome="allowed" if n % 3 else "denied",
            reason="declared for purpose 'deliver_services'",
            purpose="deliver_services",
            subject_id=f"p{start + n}",
            categories=("name", "email"),
        )
        for n in range(count)
    ]


def test_se1_record_many_and_record_interleave_in_one_verifiable_chain(runtime: Runtime) -> None:
    append(runtime, 2)
    with runtime.transaction() as session:
        first = service.record_many(session, batch_of(3))
        append_in(session, "person.read")  # in the same transaction, after the batch
        second = service.record_many(session, batch_of(2, start=3))
    append(runtime, 1)
    with runtime.transaction() as session:
        assert service.record_many(session, []) == []

    entries = all_entries(runtime)
    assert len(entries) == 9
    assert [e.id for e in entries[2:5]] == first
    assert [e.id for e in entries[6:8]] == second
    assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]
    assert [e.subject_id for e in entries[2:5]] == ["p0", "p1", "p2"]
    assert (entries[2].outcome, entries[3].outcome, entries[2].categories) == (
        "denied",
        "allowed",
        "email,name",
    )
    assert service.verify(runtime.sessions, batch_size=4).summary() == "9 entries, chain intact"


def test_se1_an_entry_of_a_batch_changed_afterwards_is_detected(runtime: Runtime) -> None:
    with runtime.transaction() as session:
        ids = service.record_many(session, batch_of(4))
    change(runtime, ids[2], outcome="denied")  # it was allowed
    assert service.verify(runtime.sessions).problem == (
        f"entry {ids[2]}: hash does not match its contents"
    )


def test_se1_record_many_refuses_a_personal_value_and_writes_none_of_the_batch(
    runtime: Runtime,
) -> None:
    entries = batch_of(3)
    entries[1] = replace(entries[1], reason="sent to ann@example.com")
    with pytest.raises(ValueError, match="audit reason: holds an email address"):
        in_request(runtime, lambda session: service.record_many(session, entries))
    assert all_entries(runtime) == []


def test_se1_batch_and_single_writers_at_once_do_not_fork_the_chain(runtime: Runtime) -> None:
    start = threading.Barrier(4)
    failures: list[BaseException] = []

    def batches(offset: int) -> None:
        for n in range(5):
            with runtime.transaction() as session:
                service.record_many(session, batch_of(20, start=offset + 20 * n))

    def write(work: Callable[[], object]) -> None:
        try:
            start.wait()
            work()
        except BaseException as exc:
            failures.append(exc)

    jobs: list[Callable[[], object]] = [
        lambda: batches(0),
        lambda: batches(1000),
        lambda: append(runtime, 10),
        lambda: append(runtime, 10),
    ]
    threads = [threading.Thread(target=write, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert service.verify(runtime.sessions).summary() == "220 entries, chain intact"
    assert len({e.prev_hash for e in all_entries(runtime)}) == 220
