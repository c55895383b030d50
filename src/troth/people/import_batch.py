"""One batch of an import, inside the caller's transaction: matched with one query, merged by
the provenance rule, decided row by row by the guard, and written set by set: one call to the
key store for the new people's keys, one executemany per table, one flush for the people who
exist, and the guard's decisions appended to the audit log together."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from troth.audit import service as audit_log
from troth.errors import TrothError
from troth.people import fields, import_store, repository, service, values
from troth.people.context import PeopleContext
from troth.people.fields import INDEXED, categories_of
from troth.people.import_report import Outcome, RowResult
from troth.people.import_rows import MATCH_KEY, Row
from troth.people.import_rules import Candidate, ImportSource, clean, jurisdiction_after, screen
from troth.people.models import Person, PersonValue
from troth.people.provenance import merge
from troth.policy.guard import Actor, Subject
from troth.security.clock import utcnow

BATCH_ROWS = 500
ACTION = "person.import"
CLI_ACTOR = Actor.system("cli")
UNKNOWN_PERSON = "no person has this email; a third-party source only adds to people who exist"
SubjectOf = Callable[[Session, Person], Subject]


def subject_of(_session: Session, person: Person) -> Subject:
    """What the guard knows of a person: today, whether they await a guardian."""
    return service.subject_of(person)


@dataclass(frozen=True)
class ImportJob:
    path: Path
    source: ImportSource
    actor: Actor = CLI_ACTOR
    batch_rows: int = BATCH_ROWS
    subject_of: SubjectOf = subject_of


@dataclass
class Fresh:
    """A person made by this batch, not yet written."""

    person: import_store.NewPerson
    values: import_store.Values


class Batch:
    """One transaction's rows: matched with one query, merged, written set by set."""

    def __init__(self, session: Session, ctx: PeopleContext, job: ImportJob) -> None:
        self.session, self.ctx, self.job = session, ctx, job
        self.source = job.source
        self.origin = job.source.origin
        self.now = utcnow()
        self.fresh: dict[str, Fresh] = {}
        self.people: dict[str, Person] = {}
        self.stored: dict[int, dict[str, PersonValue]] = {}
        self.lookups: dict[tuple[int, str], str] = {}
        """Blind indexes of people who exist, to replace once the rows are merged."""
        self.decisions: list[audit_log.Entry] = []
        """The guard's answer for each person, for the audit log."""

    def run(self, rows: Iterable[Row]) -> list[RowResult]:
        results: list[RowResult] = []
        candidates: list[tuple[Candidate, str]] = []
        for row in rows:
            screened = screen(row, self.source)
            if isinstance(screened, str):
                results.append(RowResult(row.number, Outcome.rejected, screened))
            else:
                digest = self.ctx.cipher.blind_index(MATCH_KEY, screened.email)
                candidates.append((screened, digest))
        self.people = repository.people_by_email(self.session, {d for _, d in candidates})
        self.stored = repository.values_of_people(
            self.session, (p.id for p in self.people.values())
        )
        results.extend(self._one(candidate, digest) for candidate, digest in candidates)
        self._write_fresh()
        self.session.flush()
        repository.replace_lookups(self.session, self.lookups)
        audit_log.record_many(self.session, self.decisions)
        return results

    def _one(self, candidate: Candidate, digest: str) -> RowResult:
        person = self.people.get(digest)
        fresh = self.fresh.get(digest)
        if person is None and fresh is None and not self.source.creates:
            return _rejected(candidate, UNKNOWN_PERSON)
        known = person or (fresh.person if fresh else None)
        country = known.jurisdiction[:2] if known and known.jurisdiction else None
        cleaned = clean(candidate, country)
        if isinstance(cleaned, str):
            return _rejected(candidate, cleaned)
        if person is not None:
            return self._merge(candidate, person, cleaned)
        if fresh is not None:
            return self._merge_fresh(candidate, fresh, cleaned)
        return self._create(candidate, digest, cleaned)

    def _create(self, candidate: Candidate, digest: str, cleaned: dict[str, str]) -> RowResult:
        public_id = str(uuid.uuid4())
        refusal = self._refusal(cleaned, Subject(id=public_id))
        if refusal:
            return _rejected(candidate, refusal)
        person = import_store.NewPerson(
            public_id=public_id,
            jurisdiction=fields.jurisdiction(cleaned.get("country"), cleaned.get("region")),
            created_at=self.now,
            updated_at=self.now,
        )
        stored = {name: (text, self.origin) for name, text in cleaned.items()}
        self.fresh[digest] = Fresh(person, stored)
        return RowResult(candidate.number, Outcome.added)

    def _merge(self, candidate: Candidate, person: Person, cleaned: dict[str, str]) -> RowResult:
        cleaned.pop(MATCH_KEY, None)  # the match key: equal to the stored email already
        refusal = _region_refusal(person, cleaned) or self._refusal(
            cleaned, self.job.subject_of(self.session, person)
        )
        if refusal:
            return _rejected(candidate, refusal)
        rows = self.stored.setdefault(person.id, {})
        try:
            changes = {n: t for n, t in cleaned.items() if self._replaces(person, rows.get(n), t)}
        except TrothError:
            return _rejected(candidate, "the person's stored values cannot be read")
        for name, text in changes.items():
            rows[name] = import_store.put_value(
                self.session, self.ctx, person, rows.get(name), name, text, self.origin
            )
            if name in INDEXED:
                self.lookups[(person.id, name)] = self.ctx.cipher.blind_index(name, text)
        return self._settle(candidate, person, changes)

    def _replaces(self, person: Person, row: PersonValue | None, text: str) -> bool:
        if row is None:
            return True
        if not merge(values.provenance_of(row), self.origin).replace:
            return False
        same = row.source == self.origin.source and values.decrypt(self.ctx, person, row) == text
        return not same

    def _merge_fresh(
        self, candidate: Candidate, fresh: Fresh, cleaned: dict[str, str]
    ) -> RowResult:
        cleaned.pop(MATCH_KEY, None)
        refusal = _region_refusal(fresh.person, cleaned) or self._refusal(
            cleaned, Subject(id=fresh.person.public_id)
        )
        if refusal:
            return _rejected(candidate, refusal)
        changes = {n: t for n, t in cleaned.items() if fresh.values.get(n, ("",))[0] != t}
        fresh.values.update({name: (text, self.origin) for name, text in changes.items()})
        return self._settle(candidate, fresh.person, changes)

    def _settle(
        self, candidate: Candidate, person: Person | import_store.NewPerson, changes: dict[str, str]
    ) -> RowResult:
        if not changes:
            return RowResult(candidate.number, Outcome.unchanged)
        if "country" in changes or "region" in changes:
            person.jurisdiction = fields.jurisdiction(
                *jurisdiction_after(person.jurisdiction, changes)
            )
        person.updated_at = self.now
        return RowResult(candidate.number, Outcome.updated)

    def _refusal(self, cleaned: dict[str, str], subject: Subject) -> str | None:
        """Ask the guard for this person (the answer is audited with the batch); the reason
        if refused, without the id."""
        categories = tuple(categories_of(cleaned))
        decision = self.ctx.guard.check(self.job.actor, self.source.purpose, categories, subject)
        self.decisions.append(
            audit_log.Entry(
                actor=self.job.actor.id,
                action=ACTION,
                outcome=audit_log.Outcome.allowed if decision.allowed else audit_log.Outcome.denied,
                reason=decision.reason,
                purpose=self.source.purpose,
                subject_id=subject.id,
                categories=categories,
            )
        )
        if decision.allowed:
            return None
        return decision.reason.replace(f"person {subject.id} ", "the person ")

    def _write_fresh(self) -> None:
        if not self.fresh:
            return
        fresh = list(self.fresh.values())
        self.ctx.keys.create_keys(item.person.public_id for item in fresh)
        ids = import_store.insert_people(self.session, [item.person for item in fresh])
        import_store.insert_values(
            self.session,
            self.ctx,
            ((ids[item.person.public_id], item.person.public_id, item.values) for item in fresh),
        )


def _region_refusal(person: Person | import_store.NewPerson, cleaned: dict[str, str]) -> str | None:
    country, region = jurisdiction_after(person.jurisdiction, cleaned)
    if region and country and not region.startswith(f"{country}-"):
        return "region: not in the person's country; give the country too"
    return None


def _rejected(candidate: Candidate, reason: str) -> RowResult:
    return RowResult(candidate.number, Outcome.rejected, reason)
