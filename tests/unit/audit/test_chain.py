"""The hash chain on its own: digests and the walk that names the first broken entry."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from troth.audit.chain import GENESIS, ChainReport, ChainWalk, Link, canonical_time, digest

T0 = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)


def build(count: int, first_id: int = 1) -> list[tuple[Link, str]]:
    chain: list[tuple[Link, str]] = []
    prev = GENESIS
    for n in range(count):
        link = Link(
            prev_hash=prev,
            id=first_id + n,
            at=T0 + dt.timedelta(seconds=n),
            actor="user:1",
            action="person.read",
            purpose="support",
            subject_id=str(100 + n),
            categories="email,name",
            outcome="allowed",
            reason="declared for purpose 'support'",
        )
        prev = digest(link)
        chain.append((link, prev))
    return chain


def walk(chain: list[tuple[Link, str]]) -> ChainReport:
    walker = ChainWalk()
    for link, stored in chain:
        if not walker.step(link, stored):
            break
    return walker.report()


def test_se1_intact_chain_reports_its_length() -> None:
    report = walk(build(5))
    assert report.intact
    assert report.summary() == "5 entries, chain intact"
    assert report.head_hash == build(5)[-1][1]


def test_se1_empty_log_is_intact() -> None:
    report = walk([])
    assert report.summary() == "0 entries, chain intact"
    assert report.head_hash == GENESIS


def test_se1_digest_covers_every_field() -> None:
    link = build(1)[0][0]
    changes: dict[str, Any] = {
        "prev_hash": "f" * 64,
        "id": 2,
        "at": T0 + dt.timedelta(microseconds=1),
        "actor": "user:2",
        "action": "person.update",
        "purpose": None,
        "subject_id": None,
        "categories": "email",
        "outcome": "denied",
        "reason": "other",
    }
    for name, value in changes.items():
        assert digest(dataclasses.replace(link, **{name: value})) != digest(link), name


def test_se1_naive_times_are_read_as_utc() -> None:
    naive = T0.replace(tzinfo=None)
    other_zone = T0.astimezone(dt.timezone(dt.timedelta(hours=2)))
    assert canonical_time(naive) == canonical_time(other_zone) == "2030-01-01T12:00:00.000000+00:00"


def test_se1_changed_content_names_the_entry() -> None:
    chain = build(4)
    link, stored = chain[2]
    chain[2] = (dataclasses.replace(link, reason="nothing to see"), stored)
    report = walk(chain)
    assert report.problem == "entry 3: hash does not match its contents"
    assert report.broken_id == 3
    assert report.count == 2


def test_se1_missing_middle_entry_names_the_gap() -> None:
    chain = build(4)
    del chain[1]
    assert walk(chain).problem == (
        "entry 3: does not follow entry 1 (entry 2 is missing or reordered)"
    )


def test_se1_several_missing_entries_are_named_as_a_range() -> None:
    chain = build(6)
    del chain[1:4]
    assert walk(chain).problem == (
        "entry 5: does not follow entry 1 (entries 2 to 4 are missing or reordered)"
    )


def test_se1_missing_first_entry_is_detected() -> None:
    chain = build(3)[1:]
    assert walk(chain).problem == (
        "entry 2: does not follow the start of the log (earlier entries are missing)"
    )


def test_se1_rehashed_edit_is_caught_by_the_next_entry() -> None:
    chain = build(4)
    edited = dataclasses.replace(chain[1][0], reason="rewritten")
    chain[1] = (edited, digest(edited))
    assert walk(chain).problem == (
        "entry 3: does not follow entry 2"
        " (entry 2 was altered, or entries are missing or reordered)"
    )
