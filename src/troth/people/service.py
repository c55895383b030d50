"""The people domain's functions: each takes a session, the context and an actor, asks the
guard (audited) for a purpose and the categories it touches, and never commits."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial

from sqlalchemy.orm import Session

from troth.audit.authorize import authorize
from troth.audit.service import Outcome, record
from troth.errors import Conflict, Forbidden, NotFound, Unprocessable
from troth.people import cleaners, fields, payment, provenance, repository, values
from troth.people.context import PeopleContext
from troth.people.fields import PAYMENT_CATEGORY, categories_of
from troth.people.models import PaymentMethod, Person, PersonStatus, PersonValue
from troth.people.provenance import GIVEN, Provenance, kind_of, merge
from troth.people.subjects import subject_for
from troth.people.values import PersonView
from troth.policy.guard import Actor, Subject
from troth.security.clock import aware, utcnow

MAX_PER_PAGE = 100
_RECIPIENT_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")


@dataclass(frozen=True)
class Origin:
    """Where the values of one call come from, and how they arrived."""

    source: str = GIVEN
    method: str = "api"
    collected_at: dt.datetime | None = None

    def at(self, now: dt.datetime) -> Provenance:
        return Provenance(self.source, self.method, self.collected_at or now)


@dataclass(frozen=True)
class UpdateResult:
    person: Person
    changed: list[str] = field(default_factory=list)
    kept: dict[str, str] = field(default_factory=dict)
    """Fields left as they were, with the merge rule's reason."""


@dataclass(frozen=True)
class PersonSummary:
    public_id: str
    status: str
    created_at: dt.datetime
    name: str | None = None


@dataclass(frozen=True)
class PeoplePage:
    items: list[PersonSummary]
    total: int
    page: int
    per_page: int
    names_shown: bool


def subject_of(person: Person) -> Subject:
    return subject_for(person)


def get(session: Session, public_id: str) -> Person:
    person = repository.by_public_id(session, public_id)
    if person is None:
        raise NotFound(f"no person {public_id}")
    return person


def create_person(
    session: Session,
    ctx: PeopleContext,
    actor: Actor,
    given: Mapping[str, object],
    *,
    purpose: str,
    origin: Origin = Origin(),
) -> PersonView:
    now = utcnow()
    cleaned = {k: v for k, v in _clean(ctx, given, origin, None).items() if v is not None}
    if not cleaned:
        raise Unprocessable("give at least one value")
    public_id = str(uuid.uuid4())
    authorize(
        session,
        ctx.guard,
        actor,
        purpose,
        categories_of(cleaned),
        action="person.create",
        subject=Subject(id=public_id),
    )
    _refuse_taken_email(session, ctx, cleaned.get("email"), None)
    ctx.keys.create_key(public_id)
    person = Person(
        public_id=public_id,
        status=PersonStatus.active.value,
        jurisdiction=fields.jurisdiction(cleaned.get("country"), cleaned.get("region")),
        created_at=now,
        updated_at=now,
    )
    session.add(person)
    session.flush()
    for name, text in cleaned.items():
        values.store(session, ctx, person, None, name, text, origin.at(now))
    session.flush()
    return values.view(ctx, person, repository.values_of(session, person), categories_of(cleaned))


def get_person(
    session: Session, ctx: PeopleContext, actor: Actor, public_id: str, *, purpose: str
) -> PersonView:
    """Decrypts only the categories the purpose may use; the others are withheld."""
    usable = _categories_of_purpose(ctx, purpose)
    return _read(session, ctx, actor, get(session, public_id), purpose, usable, "person.read")


def view_for_recipient(
    session: Session,
    ctx: PeopleContext,
    actor: Actor,
    public_id: str,
    recipient_id: str,
    *,
    purpose: str,
) -> PersonView:
    """What a declared recipient (an affiliate of the group, a processor) may receive for
    this purpose: the categories declared for both (SC3). Anyone else is refused."""
    person = get(session, public_id)
    if not _RECIPIENT_ID.fullmatch(recipient_id):
        _refuse(session, actor, "person.view_for", person, "that recipient is not declared")
    action = f"person.view_for:{recipient_id}"
    recipient = next((p for p in ctx.declaration.third_parties if p.id == recipient_id), None)
    if recipient is None:
        _refuse(session, actor, action, person, f"recipient '{recipient_id}' is not declared")
    elif purpose not in recipient.purposes:
        reason = f"recipient '{recipient_id}' is not declared for purpose '{purpose}'"
        _refuse(session, actor, action, person, reason)
    assert recipient is not None
    usable = _categories_of_purpose(ctx, purpose) & set(recipient.categories)
    return _read(session, ctx, actor, person, purpose, usable, action)


def _read(
    session: Session,
    ctx: PeopleContext,
    actor: Actor,
    person: Person,
    purpose: str,
    usable: frozenset[str],
    action: str,
) -> PersonView:
    rows = repository.values_of(session, person)
    cards = repository.payment_methods_of(session, person)
    stored = categories_of(rows) | ({PAYMENT_CATEGORY} if cards else set())
    touched = stored & usable
    authorize(
        session, ctx.guard, actor, purpose, touched, action=action, subject=subject_of(person)
    )
    shown_cards = cards if PAYMENT_CATEGORY in touched else ()
    view = values.view(ctx, person, rows, touched, shown_cards)
    if cards and PAYMENT_CATEGORY not in touched:
        return _with_withheld(view, PAYMENT_CATEGORY)
    return view


def _with_withheld(view: PersonView, category: str) -> PersonView:
    return replace(view, withheld=sorted({*view.withheld, category}))


def update_person(
    session: Session,
    ctx: PeopleContext,
    actor: Actor,
    public_id: str,
    changes: Mapping[str, object],
    *,
    purpose: str,
    origin: Origin = Origin(),
) -> UpdateResult:
    """Apply each value unless the merge rule keeps the stored one; None removes a value."""
    person = get(session, public_id)
    now = utcnow()
    cleaned = _clean(ctx, changes, origin, person)
    removed = sorted(name for name, text in cleaned.items() if text is None)
    if removed and kind_of(origin.source) != GIVEN:
        raise Unprocessable(f"{removed[0]}: only a value the person gives can remove one")
    authorize(
        session,
        ctx.guard,
        actor,
        purpose,
        categories_of(cleaned),
        action="person.update",
        subject=subject_of(person),
    )
    _refuse_taken_email(session, ctx, cleaned.get("email"), person)
    _refuse_mismatched_region(person, cleaned)
    rows = repository.values_of(session, person)
    result = UpdateResult(person)
    incoming = origin.at(now)
    for name, text in cleaned.items():
        current = rows.get(name)
        verdict = merge(values.provenance_of(current) if current else None, incoming)
        if not verdict.replace:
            result.kept[name] = verdict.reason
        elif text is None:
            values.remove(session, person, name)
            result.changed.append(name)
        else:
            values.store(session, ctx, person, current, name, text, incoming)
            result.changed.append(name)
    _follow_jurisdiction(person, {n: cleaned[n] for n in result.changed})
    if result.changed:
        person.updated_at = now
    session.flush()
    return result


def _jurisdiction_after(
    person: Person, changes: Mapping[str, str | None]
) -> tuple[str | None, str | None]:
    current = person.jurisdiction or ""
    region = changes.get("region", current if "-" in current else None)
    country = changes.get("country", current[:2] or None)
    return country, region


def _refuse_mismatched_region(person: Person, cleaned: Mapping[str, str | None]) -> None:
    country, region = _jurisdiction_after(person, cleaned)
    if region and country and not region.startswith(f"{country}-"):
        raise Unprocessable(f"region: {region} is not in {country}; change the region too")


def _follow_jurisdiction(person: Person, applied: Mapping[str, str | None]) -> None:
    if "country" not in applied and "region" not in applied:
        return
    country, region = _jurisdiction_after(person, applied)
    if region and country and not region.startswith(f"{country}-"):
        region = None  # the merge kept an older country; the region no longer fits it
    person.jurisdiction = fields.jurisdiction(country, region)


def find_by_email(
    session: Session, ctx: PeopleContext, actor: Actor, email: str, *, purpose: str
) -> Sequence[Person]:
    """Exact search through the blind index: nobody is decrypted."""
    normalized = _checked("email", cleaners.email, email)
    authorize(session, ctx.guard, actor, purpose, ["email"], action="person.search")
    return repository.find_by_digest(session, "email", values.digest(ctx, "email", normalized))


def find_by_phone(
    session: Session,
    ctx: PeopleContext,
    actor: Actor,
    phone: str,
    *,
    purpose: str,
    country: str | None = None,
) -> Sequence[Person]:
    hints = cleaners.Hints(country=country, today=fields.today())
    normalized = _checked("phone", lambda value: cleaners.phone(value, hints), phone)
    authorize(session, ctx.guard, actor, purpose, ["phone"], action="person.search")
    return repository.find_by_digest(session, "phone", values.digest(ctx, "phone", normalized))


def list_people(
    session: Session,
    ctx: PeopleContext,
    actor: Actor,
    *,
    page: int = 1,
    per_page: int = 50,
    purpose: str | None = None,
) -> PeoplePage:
    """Ids and status; names too when the purpose lets this actor use them."""
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise Unprocessable(f"page from 1, per_page from 1 to {MAX_PER_PAGE}")
    rows, total = repository.page(session, (page - 1) * per_page, per_page)
    names = purpose is not None and bool(ctx.guard.check(actor, purpose, ["name"]))
    if names and purpose is not None:
        authorize(session, ctx.guard, actor, purpose, ["name"], action="person.list")
    found = repository.values_of_many(session, (p.id for p in rows), "name") if names else {}
    items = [_summary(ctx, person, found.get(person.id)) for person in rows]
    return PeoplePage(items, total, page, per_page, names)


def _summary(ctx: PeopleContext, person: Person, name_row: PersonValue | None) -> PersonSummary:
    name = str(values.decrypt(ctx, person, name_row)) if name_row is not None else None
    return PersonSummary(person.public_id, person.status, aware(person.created_at), name)


def add_payment_method(
    session: Session,
    ctx: PeopleContext,
    actor: Actor,
    public_id: str,
    card: payment.Card,
    *,
    purpose: str,
) -> PaymentMethod:
    """Keeps the processor's token (encrypted), brand, last four digits and expiry."""
    person = get(session, public_id)
    card = payment.check_card(ctx.declaration, card)
    authorize(
        session,
        ctx.guard,
        actor,
        purpose,
        [PAYMENT_CATEGORY],
        action="payment_method.add",
        subject=subject_of(person),
    )
    method = PaymentMethod(
        person_id=person.id,
        processor=card.processor,
        token=ctx.cipher.encrypt(person.public_id, "payment_card.token", card.token),
        brand=card.brand,
        last4=card.last4,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
        created_at=utcnow(),
    )
    session.add(method)
    session.flush()
    return method


def payment_token(ctx: PeopleContext, person: Person, method: PaymentMethod) -> str:
    """The processor's token, for the code that charges the card (never shown in pages)."""
    return ctx.cipher.decrypt(person.public_id, "payment_card.token", method.token)


def _clean(
    ctx: PeopleContext, given: Mapping[str, object], origin: Origin, person: Person | None
) -> dict[str, str | None]:
    country = person.jurisdiction[:2] if person and person.jurisdiction else None
    cleaned = fields.clean_values(given, cleaners.Hints(country, fields.today()))
    provided = [name for name, text in cleaned.items() if text is not None]
    fields.check_declared(ctx.declaration, provided, kind_of(origin.source))
    provenance.check(ctx.declaration, origin.at(utcnow()), categories_of(provided))
    return cleaned


def _categories_of_purpose(ctx: PeopleContext, purpose: str) -> frozenset[str]:
    declared = ctx.declaration.purposes.get(purpose)
    return frozenset(declared.categories) if declared else frozenset()


def _checked(name: str, check: Callable[[str], str], value: str) -> str:
    try:
        result = check(value)
    except cleaners.Invalid as exc:
        raise Unprocessable(f"{name}: {exc}") from None
    return result


def _refuse_taken_email(
    session: Session, ctx: PeopleContext, email: str | None, person: Person | None
) -> None:
    if email is None:
        return
    holders = repository.find_by_digest(session, "email", values.digest(ctx, "email", email))
    if any(holder is not person for holder in holders):
        raise Conflict("another person already has that email address")


def _refuse(session: Session, actor: Actor, action: str, person: Person, reason: str) -> None:
    """Refuse and audit something the guard cannot decide alone (an undeclared recipient)."""
    entry = {"actor": actor.id, "action": action, "subject_id": person.public_id}
    _record_denial(session, reason, entry)
    error = Forbidden(reason)
    error.after_rollback.append(partial(_record_denial, reason=reason, entry=entry))
    raise error


def _record_denial(session: Session, reason: str, entry: dict[str, str]) -> None:
    record(session, outcome=Outcome.denied, reason=reason, **entry)
