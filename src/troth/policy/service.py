"""Publishing the policy: immutable, numbered versions, each with its Last Updated date.

A version is never changed after it is stored. Reading one back re-validates the stored
declaration and checks it against the content hash, so an altered row is refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from troth.audit import service as audit
from troth.errors import Conflict, NotFound, Unprocessable
from troth.policy import repository
from troth.policy.checks import find_problems
from troth.policy.loader import LoadedPolicy, canonical_json, content_hash
from troth.policy.models import PolicyVersion
from troth.policy.schema import Declaration

NOTHING_PUBLISHED = (
    "no privacy policy has been published yet: "
    "run `troth policy publish` to publish the declaration"
)


class TamperedVersion(Conflict):
    """A stored version no longer matches the hash it was published with."""

    def __init__(self, number: int, detail: str) -> None:
        super().__init__(
            f"policy version {number} was altered after publication ({detail}); "
            "restore it from a backup"
        )


@dataclass(frozen=True)
class PublishedPolicy:
    version: PolicyVersion
    declaration: Declaration
    is_latest: bool


def _refuse_unchanged_or_stale(session: Session, loaded: LoadedPolicy) -> None:
    same = repository.by_hash(session, loaded.content_hash)
    if same is not None:
        raise Conflict(f"already published as version {same.number}")
    previous = repository.latest(session)
    if previous is None:
        return
    new_date = loaded.declaration.last_updated
    if new_date == previous.last_updated:
        raise Conflict(
            f"the declaration changed but last_updated is still {new_date.isoformat()}: "
            "set a new date"
        )
    if new_date < previous.last_updated:
        raise Conflict(
            f"last_updated {new_date.isoformat()} is earlier than version "
            f"{previous.number}'s {previous.last_updated.isoformat()}: set a later date"
        )


def _refuse_inconsistent(loaded: LoadedPolicy, today: dt.date) -> None:
    problems = find_problems(loaded, today)
    if problems:
        lines = "\n".join(problem.render(loaded.filename) for problem in problems)
        raise Unprocessable(f"the declaration has problems; fix them before publishing:\n{lines}")


def publish(session: Session, loaded: LoadedPolicy, actor: str, now: dt.datetime) -> PolicyVersion:
    """Store the declaration as the next public version (PC1: a new one needs a new date)."""
    _refuse_inconsistent(loaded, now.date())
    _refuse_unchanged_or_stale(session, loaded)
    declaration = loaded.declaration
    version = PolicyVersion(
        number=repository.latest_number(session) + 1,
        content_hash=loaded.content_hash,
        last_updated=declaration.last_updated,
        effective_date=declaration.effective_date or declaration.last_updated,
        published_at=now if now.tzinfo else now.replace(tzinfo=dt.UTC),
        published_by=actor,
        source=loaded.source,
        declaration=canonical_json(declaration),
    )
    try:
        repository.add(session, version)
    except IntegrityError:
        raise Conflict("another version was published at the same moment: try again") from None
    audit.record(
        session,
        actor=actor,
        action="policy.publish",
        outcome=audit.Outcome.allowed,
        reason=f"version {version.number}, Last Updated {version.last_updated.isoformat()}",
    )
    return version


def latest(session: Session) -> PolicyVersion | None:
    return repository.latest(session)


def history(session: Session) -> Sequence[PolicyVersion]:
    """Every published version, newest first."""
    return repository.newest_first(session)


def get(session: Session, number: int) -> PolicyVersion:
    version = repository.by_number(session, number)
    if version is None:
        newest = repository.latest_number(session)
        known = f"versions 1 to {newest} exist" if newest else "nothing is published yet"
        raise NotFound(f"there is no policy version {number} ({known})")
    return version


def declaration_of(version: PolicyVersion) -> Declaration:
    """The stored declaration, re-validated and checked against its content hash."""
    try:
        declaration = Declaration.model_validate_json(version.declaration)
    except ValidationError:
        raise TamperedVersion(version.number, "its declaration is no longer valid") from None
    if content_hash(declaration) != version.content_hash:
        raise TamperedVersion(version.number, "its declaration does not match its hash")
    if declaration.last_updated != version.last_updated:
        raise TamperedVersion(version.number, "its Last Updated date does not match")
    if (declaration.effective_date or declaration.last_updated) != version.effective_date:
        raise TamperedVersion(version.number, "its effective date does not match")
    return declaration


def published(session: Session, number: int | None = None) -> PublishedPolicy:
    """A published version with its declaration: the latest, or the one numbered."""
    newest = repository.latest(session)
    if newest is None:
        raise NotFound(NOTHING_PUBLISHED)
    version = newest if number is None or number == newest.number else get(session, number)
    return PublishedPolicy(version, declaration_of(version), version.number == newest.number)
