"""The import's writes, a batch at a time: new people, their values and blind indexes with
one executemany each, and the changed values of people who exist through the session.

These sit beside the people repository rather than in it because the import is their only
user so far.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from troth.people.context import PeopleContext
from troth.people.fields import INDEXED
from troth.people.models import Person, PersonLookup, PersonStatus, PersonValue
from troth.people.provenance import Provenance

Values = dict[str, tuple[str, Provenance]]
"""Field name to (value, where it came from)."""
# Core inserts: the ORM's bulk insert costs more than the encryption beside it.
PEOPLE: Table = Person.__table__  # type: ignore[assignment]
VALUES: Table = PersonValue.__table__  # type: ignore[assignment]
LOOKUPS: Table = PersonLookup.__table__  # type: ignore[assignment]


@dataclass
class NewPerson:
    """A person made by an import, not yet written: a plain object, cheaper than an ORM one."""

    public_id: str
    jurisdiction: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    status: str = PersonStatus.active.value


def insert_people(session: Session, people: Sequence[NewPerson]) -> dict[str, int]:
    """Insert new people; their public id to their new row id."""
    if not people:
        return {}
    rows = [
        {
            "public_id": person.public_id,
            "status": person.status,
            "jurisdiction": person.jurisdiction,
            "created_at": person.created_at,
            "updated_at": person.updated_at,
        }
        for person in people
    ]
    inserted = session.execute(insert(PEOPLE).returning(PEOPLE.c.public_id, PEOPLE.c.id), rows)
    return dict(inserted.all())


def insert_values(
    session: Session, ctx: PeopleContext, people: Iterable[tuple[int, str, Values]]
) -> None:
    """The first values of people just inserted, as (row id, public id, values): encrypted
    under each person's key, with a blind index for the indexed fields."""
    value_rows: list[dict[str, Any]] = []
    lookup_rows: list[dict[str, Any]] = []
    for person_id, public_id, values in people:
        for name, (text, origin) in values.items():
            value_rows.append(
                {
                    "person_id": person_id,
                    "field": name,
                    "ciphertext": ctx.cipher.encrypt(public_id, name, text),
                    "source": origin.source,
                    "method": origin.method,
                    "collected_at": origin.collected_at,
                }
            )
            if name in INDEXED:
                digest = ctx.cipher.blind_index(name, text)
                lookup_rows.append({"person_id": person_id, "field": name, "digest": digest})
    if value_rows:
        session.execute(insert(VALUES), value_rows)
    if lookup_rows:
        session.execute(insert(LOOKUPS), lookup_rows)


def put_value(
    session: Session,
    ctx: PeopleContext,
    person: Person,
    row: PersonValue | None,
    name: str,
    text: str,
    origin: Provenance,
) -> PersonValue:
    """A value of a person who exists, written at the next flush; returned so a later row of
    the batch sees it. Its blind index is the caller's to replace (repository.replace_lookups)."""
    if row is None:
        row = PersonValue(person_id=person.id, field=name)
        session.add(row)
    row.ciphertext = ctx.cipher.encrypt(person.public_id, name, text)
    row.source, row.method, row.collected_at = origin.source, origin.method, origin.collected_at
    return row
