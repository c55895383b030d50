"""Every query of the people domain."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session

from troth.people.models import PaymentMethod, Person, PersonLookup, PersonValue


def by_public_id(session: Session, public_id: str) -> Person | None:
    return session.scalar(select(Person).where(Person.public_id == public_id))


def values_of(session: Session, person: Person) -> dict[str, PersonValue]:
    rows = session.scalars(select(PersonValue).where(PersonValue.person_id == person.id))
    return {row.field: row for row in rows}


def values_of_many(
    session: Session, person_ids: Iterable[int], field: str
) -> dict[int, PersonValue]:
    rows = session.scalars(
        select(PersonValue).where(
            PersonValue.person_id.in_(list(person_ids)), PersonValue.field == field
        )
    )
    return {row.person_id: row for row in rows}


def delete_value(session: Session, person: Person, field: str) -> None:
    session.execute(
        delete(PersonValue).where(PersonValue.person_id == person.id, PersonValue.field == field)
    )


def set_lookup(session: Session, person: Person, field: str, digest: str | None) -> None:
    session.execute(
        delete(PersonLookup).where(PersonLookup.person_id == person.id, PersonLookup.field == field)
    )
    if digest is not None:
        session.add(PersonLookup(person_id=person.id, field=field, digest=digest))


def replace_lookups(session: Session, digests: Mapping[tuple[int, str], str]) -> None:
    """set_lookup for many (person id, field) pairs: one delete per field, one insert."""
    by_field: defaultdict[str, list[int]] = defaultdict(list)
    for person_id, field in digests:
        by_field[field].append(person_id)
    for field, person_ids in by_field.items():
        session.execute(
            delete(PersonLookup).where(
                PersonLookup.field == field, PersonLookup.person_id.in_(person_ids)
            )
        )
    rows = [{"person_id": p, "field": f, "digest": d} for (p, f), d in digests.items()]
    if rows:
        session.execute(insert(PersonLookup), rows)


def refresh_statistics(session: Session) -> None:
    """Have PostgreSQL's planner sample the people tables afresh. Until it has, it takes every
    blind index for the same field and searches them one by one: each batch of a first large
    import would read every index row written before it."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE people, person_lookups, person_values"))


def people_by_email(session: Session, digests: Collection[str]) -> dict[str, Person]:
    """Blind-index digest of an email to the person holding it (the earliest, if several)."""
    if not digests:
        return {}
    rows = session.execute(
        select(PersonLookup.digest, Person)
        .join(Person, Person.id == PersonLookup.person_id)
        .where(PersonLookup.field == "email", PersonLookup.digest.in_(list(digests)))
        .order_by(Person.id.desc())
    )
    return dict(rows.all())


def values_of_people(
    session: Session, person_ids: Iterable[int]
) -> defaultdict[int, dict[str, PersonValue]]:
    """Every stored value of these people, by person id and field."""
    found: defaultdict[int, dict[str, PersonValue]] = defaultdict(dict)
    ids = list(person_ids)
    if ids:
        for row in session.scalars(select(PersonValue).where(PersonValue.person_id.in_(ids))):
            found[row.person_id][row.field] = row
    return found


def find_by_digest(session: Session, field: str, digest: str) -> Sequence[Person]:
    return session.scalars(
        select(Person)
        .join(PersonLookup, PersonLookup.person_id == Person.id)
        .where(PersonLookup.field == field, PersonLookup.digest == digest)
        .order_by(Person.id)
    ).all()


def page(session: Session, offset: int, limit: int) -> tuple[Sequence[Person], int]:
    total = session.scalar(select(func.count()).select_from(Person)) or 0
    rows = session.scalars(
        select(Person).order_by(Person.id.desc()).offset(offset).limit(limit)
    ).all()
    return rows, total


def payment_methods_of(session: Session, person: Person) -> Sequence[PaymentMethod]:
    return session.scalars(
        select(PaymentMethod).where(PaymentMethod.person_id == person.id).order_by(PaymentMethod.id)
    ).all()
