"""How the guard sees a person: whether they are held (CH1) and what they chose."""

from __future__ import annotations

from troth.people.models import Person, PersonStatus
from troth.policy.guard import Subject

HELD_STATUSES = frozenset({PersonStatus.awaiting_guardian.value, PersonStatus.suspended.value})


def is_held(person: Person) -> bool:
    """Whether the account may not be used: awaiting a guardian, or consent withdrawn."""
    return person.status in HELD_STATUSES


def subject_for(
    person: Person,
    *,
    consented: frozenset[str] = frozenset(),
    objected: frozenset[str] = frozenset(),
) -> Subject:
    """The guard's view of a person: a held person gets essential purposes only, whatever
    they consented to."""
    return Subject(person.public_id, consented, objected, awaiting_guardian=is_held(person))
