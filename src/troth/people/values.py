"""Writing and reading a person's encrypted values, their provenance and blind indexes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from troth.people import repository
from troth.people.context import PeopleContext
from troth.people.fields import INDEXED, Value, category_of, decode
from troth.people.models import PaymentMethod, Person, PersonValue
from troth.people.provenance import Provenance
from troth.security.clock import aware


@dataclass(frozen=True)
class CardView:
    id: int
    processor: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True)
class PersonView:
    """What one purpose (or one recipient) may see of a person; the rest is withheld."""

    public_id: str
    status: str
    created_at: dt.datetime
    updated_at: dt.datetime
    jurisdiction: str | None = None
    values: dict[str, Value] = field(default_factory=dict)
    provenance: dict[str, Provenance] = field(default_factory=dict)
    withheld: list[str] = field(default_factory=list)
    """Categories stored for this person that were not decrypted."""
    payment_methods: list[CardView] = field(default_factory=list)


def provenance_of(row: PersonValue) -> Provenance:
    return Provenance(row.source, row.method, aware(row.collected_at))


def store(
    session: Session,
    ctx: PeopleContext,
    person: Person,
    row: PersonValue | None,
    name: str,
    text: str,
    origin: Provenance,
) -> None:
    ciphertext = ctx.cipher.encrypt(person.public_id, name, text)
    if row is None:
        row = PersonValue(person_id=person.id, field=name)
        session.add(row)
    row.ciphertext = ciphertext
    row.source, row.method, row.collected_at = origin.source, origin.method, origin.collected_at
    if name in INDEXED:
        repository.set_lookup(session, person, name, ctx.cipher.blind_index(name, text))


def remove(session: Session, person: Person, name: str) -> None:
    repository.delete_value(session, person, name)
    if name in INDEXED:
        repository.set_lookup(session, person, name, None)


def digest(ctx: PeopleContext, name: str, text: str) -> str:
    return ctx.cipher.blind_index(name, text)


def decrypt(ctx: PeopleContext, person: Person, row: PersonValue) -> Value:
    return decode(row.field, ctx.cipher.decrypt(person.public_id, row.field, row.ciphertext))


def view(
    ctx: PeopleContext,
    person: Person,
    rows: Mapping[str, PersonValue],
    allowed: Iterable[str],
    cards: Iterable[PaymentMethod] = (),
) -> PersonView:
    """Decrypt only the values whose category is allowed; name the withheld categories."""
    allowed = frozenset(allowed)
    shown = {name: row for name, row in rows.items() if category_of(name) in allowed}
    withheld = {category_of(name) for name in rows} - allowed
    return PersonView(
        public_id=person.public_id,
        status=person.status,
        created_at=aware(person.created_at),
        updated_at=aware(person.updated_at),
        jurisdiction=person.jurisdiction if "postal_address" in allowed else None,
        values={name: decrypt(ctx, person, row) for name, row in sorted(shown.items())},
        provenance={name: provenance_of(row) for name, row in sorted(shown.items())},
        withheld=sorted(withheld),
        payment_methods=[_card_view(card) for card in cards],
    )


def _card_view(card: PaymentMethod) -> CardView:
    return CardView(card.id, card.processor, card.brand, card.last4, card.exp_month, card.exp_year)
