"""The children's rule (CH1): hold a person below the age of majority until a guardian agrees.

`hold_if_minor` applies the rule when someone gives a date of birth or an age: below the
threshold, the person awaits a guardian and Troth mails the guardian a single-use link. Until
a guardian consents the account cannot be used (`is_held`) and the guard refuses every
non-essential purpose for them (`subject_for`). A guardian may later withdraw, which suspends
the account.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from troth.audit.authorize import authorize
from troth.audit.service import Outcome, record
from troth.comms.models import Message
from troth.comms.outbox import Outbox
from troth.comms.service import checked_address, queue_email
from troth.errors import Conflict, Forbidden, NotFound, TrothError, Unprocessable
from troth.people import cleaners, majority, repository, values
from troth.people.context import PeopleContext
from troth.people.context import context_for as people_context
from troth.people.guardian_models import AgeCheck, ConsentState, GuardianConsent
from troth.people.models import Person, PersonStatus
from troth.people.subjects import is_held, subject_for
from troth.policy import service as policy_service
from troth.policy.guard import Actor
from troth.runtime import Runtime
from troth.security.clock import aware, utcnow
from troth.security.tokens import fingerprint, new_secret

PURPOSE = "deliver_services"
"""Applying the age rule is part of running the account (an essential purpose)."""
MESSAGE_KIND = "administrative"
TEMPLATE = "guardian_consent"
LINK_LIFETIME = dt.timedelta(days=7)
METHOD = "email link"
VERIFY_PATH = "/guardian/verify/"
LINK_ACTOR = Actor.system("guardian_link")
"""Who acts when a guardian follows a link: Troth itself, on the guardian's word."""


class LinkExpired(TrothError):
    status_code = 410


@dataclass(frozen=True)
class GuardianContext:
    people: PeopleContext
    outbox: Outbox
    base_url: str


def context_for(runtime: Runtime) -> GuardianContext:
    base = runtime.settings.base_url
    return GuardianContext(people_context(runtime), Outbox.for_runtime(runtime, runtime.keys), base)


@dataclass(frozen=True)
class HoldResult:
    held: bool
    """True when the person now awaits a guardian's consent."""
    age: int | None
    """Whole years at `now`; None when neither a date of birth nor an age was given."""
    threshold: int
    jurisdiction: str | None
    """The jurisdiction the rule was applied for."""
    needs_review: bool
    """The jurisdiction was unknown or missing: the default was applied and the person flagged."""
    reason: str


def hold_if_minor(
    session: Session,
    ctx: GuardianContext,
    actor: Actor,
    person: Person,
    *,
    date_of_birth: dt.date | str | None = None,
    age: int | None = None,
    jurisdiction: str | None = None,
    guardian_email: str | None = None,
    now: dt.datetime | None = None,
) -> HoldResult:
    """Apply the age rule to `person` (jurisdiction: the person's own unless given). Below the
    threshold, hold them and mail `guardian_email` a link; raises Unprocessable when that
    address is missing or unusable. A date of birth wins over an age when both are given.
    It never releases a held person: only a guardian's consent does."""
    now = now or utcnow()
    years = _age(date_of_birth, age, now.date())
    where = person.jurisdiction if jurisdiction is None else jurisdiction
    rule = majority.threshold(where, ctx.people.declaration.children)
    held = years is not None and years < rule.threshold
    categories = ["birth_date", "guardian_email"] if held else ["birth_date"]
    authorize(
        session,
        ctx.people.guard,
        actor,
        PURPOSE,
        categories,
        action="person.age_check",
        subject=subject_for(person),
    )
    _note_check(session, person, where, rule, held, now)
    if rule.needs_review:
        _flag_for_review(session, actor, person, rule)
    result = HoldResult(held, years, rule.threshold, where, rule.needs_review, _reason(years, rule))
    if held:
        _hold(session, ctx, actor, person, guardian_email, rule, now)
    return result


def _age(born: dt.date | str | None, age: int | None, today: dt.date) -> int | None:
    hints = cleaners.Hints(country=None, today=today)
    try:
        if born is not None:
            text = born.isoformat() if isinstance(born, dt.date) else born
            return majority.age_on(
                dt.date.fromisoformat(cleaners.date_of_birth(text, hints)), today
            )
        if age is not None:
            return int(cleaners.age(age))
    except cleaners.Invalid as exc:
        name = "date_of_birth" if born is not None else "age"
        raise Unprocessable(f"{name}: {exc}") from None
    return None


def _reason(years: int | None, rule: majority.Majority) -> str:
    if years is None:
        return "no date of birth or age given"
    side = "below" if years < rule.threshold else "at or above"
    return f"age {years} is {side} the age of majority {rule.threshold} ({rule.source})"


def _note_check(
    session: Session,
    person: Person,
    where: str | None,
    rule: majority.Majority,
    held: bool,
    now: dt.datetime,
) -> None:
    check = session.scalar(select(AgeCheck).where(AgeCheck.person_id == person.id))
    if check is None:
        check = AgeCheck(person_id=person.id)
        session.add(check)
    check.threshold, check.jurisdiction, check.matched = rule.threshold, where, rule.matched
    check.source, check.needs_review, check.held = rule.source[:200], rule.needs_review, held
    check.checked_at = now


def _flag_for_review(
    session: Session, actor: Actor, person: Person, rule: majority.Majority
) -> None:
    reason = f"age rule applied with {rule.threshold}: {rule.source}; review the jurisdiction"
    record(
        session,
        actor=actor.id,
        action="person.age_review",
        outcome=Outcome.allowed,
        reason=reason,
        subject_id=person.public_id,
    )


def _hold(
    session: Session,
    ctx: GuardianContext,
    actor: Actor,
    person: Person,
    guardian_email: str | None,
    rule: majority.Majority,
    now: dt.datetime,
) -> None:
    if not ctx.people.declaration.children.guardian_consent:
        raise Forbidden(f"people under {rule.threshold} may not use the services alone")
    address = _guardian_address(session, ctx.people, person, guardian_email, rule.threshold)
    _replace_pending(session, person)
    person.status = PersonStatus.awaiting_guardian.value
    person.updated_at = now
    token = new_secret()
    request = GuardianConsent(
        person_id=person.id,
        state=ConsentState.pending.value,
        guardian_address=ctx.people.cipher.encrypt(person.public_id, "guardian_email", address),
        guardian_digest=ctx.people.cipher.blind_index("guardian_email", address),
        verify_hash=fingerprint(token),
        verify_expires_at=now + LINK_LIFETIME,
        requested_at=now,
    )
    session.add(request)
    session.flush()
    request.message_id = _send_link(session, ctx, actor, person, address, token, request).id
    _audit(session, actor.id, "guardian.requested", person, "guardian consent asked by email")


def _guardian_address(
    session: Session, ctx: PeopleContext, person: Person, given: str | None, threshold: int
) -> str:
    if not given:
        raise Unprocessable(
            f"guardian_email: a parent or guardian's email address is needed for someone "
            f"under {threshold}"
        )
    try:
        address = checked_address(given)
    except Unprocessable:
        raise Unprocessable("guardian_email: not a valid email address") from None
    own = repository.values_of(session, person).get("email")
    if own is not None and values.decrypt(ctx, person, own) == address:
        raise Unprocessable("guardian_email: must be a parent or guardian's own address")
    return address


def _replace_pending(session: Session, person: Person) -> None:
    for request in _requests(session, person):
        if request.state == ConsentState.pending.value:
            request.state = ConsentState.replaced.value


def _send_link(
    session: Session,
    ctx: GuardianContext,
    actor: Actor,
    person: Person,
    address: str,
    token: str,
    request: GuardianConsent,
) -> Message:
    context: dict[str, str | int] = {
        "verification_url": f"{ctx.base_url.rstrip('/')}{VERIFY_PATH}{token}",
        "expires_on": aware(request.verify_expires_at).strftime("%d %B %Y, %H:%M UTC"),
    }
    name = first_name(session, ctx.people, actor, person)
    if name:
        context["young_person_name"] = name
    return queue_email(
        session,
        ctx.outbox,
        kind=MESSAGE_KIND,
        to_address=address,
        person_id=person.public_id,
        template=TEMPLATE,
        context=context,
        actor=actor,
    )


def first_name(session: Session, ctx: PeopleContext, actor: Actor, person: Person) -> str | None:
    """The first word of the person's name, if they gave one (read for the essential purpose)."""
    row = repository.values_of(session, person).get("name")
    if row is None:
        return None
    subject = subject_for(person)
    authorize(session, ctx.guard, actor, PURPOSE, ["name"], action="guardian.name", subject=subject)
    words = str(values.decrypt(ctx, person, row)).split()
    return words[0] if words else None


@dataclass(frozen=True)
class LinkView:
    """What the guardian's page shows: the young person's first name and the threshold."""

    first_name: str | None
    threshold: int
    expires_at: dt.datetime


def open_verification(
    session: Session, ctx: GuardianContext, token: str, now: dt.datetime
) -> LinkView:
    request = _pending_request(session, token, now)
    person = _person_of(session, request)
    check = session.scalar(select(AgeCheck).where(AgeCheck.person_id == person.id))
    threshold = check.threshold if check is not None else majority.FLOOR
    name = first_name(session, ctx.people, LINK_ACTOR, person)
    return LinkView(name, threshold, aware(request.verify_expires_at))


@dataclass(frozen=True)
class Consented:
    first_name: str | None
    withdraw_token: str


def consent(session: Session, ctx: GuardianContext, token: str, now: dt.datetime) -> Consented:
    """The guardian agreed through the emailed link: record it and release the person."""
    request = _pending_request(session, token, now, lock=True)
    person = _person_of(session, request)
    withdraw_token = new_secret()
    latest = policy_service.latest(session)
    request.state = ConsentState.consented.value
    request.consented_at, request.method = now, METHOD
    request.policy_version = latest.number if latest is not None else None
    request.policy_last_updated = ctx.people.declaration.last_updated
    request.withdraw_hash = fingerprint(withdraw_token)
    person.status, person.updated_at = PersonStatus.active.value, now
    _audit(
        session, LINK_ACTOR.id, "guardian.consented", person, "a guardian consented by email link"
    )
    return Consented(first_name(session, ctx.people, LINK_ACTOR, person), withdraw_token)


def open_withdrawal(session: Session, token: str, *, lock: bool = False) -> GuardianConsent:
    query = select(GuardianConsent).where(GuardianConsent.withdraw_hash == fingerprint(token))
    request = session.scalar(query.with_for_update() if lock else query)
    if request is None:
        raise NotFound("this link is not known: check that you copied all of it")
    if request.state == ConsentState.withdrawn.value:
        raise Conflict("this consent was already withdrawn")
    if request.state != ConsentState.consented.value:
        raise Conflict("this consent is no longer in force")
    return request


def withdraw(session: Session, token: str, now: dt.datetime) -> None:
    """The guardian takes consent back: the account is suspended."""
    request = open_withdrawal(session, token, lock=True)
    person = _person_of(session, request)
    request.state, request.withdrawn_at = ConsentState.withdrawn.value, now
    person.status, person.updated_at = PersonStatus.suspended.value, now
    _audit(session, LINK_ACTOR.id, "guardian.withdrawn", person, "a guardian withdrew consent")


def _pending_request(
    session: Session, token: str, now: dt.datetime, *, lock: bool = False
) -> GuardianConsent:
    """The request behind a verification link; `lock` holds its row until the transaction
    ends, so two clicks at once cannot both use a single-use link."""
    query = select(GuardianConsent).where(GuardianConsent.verify_hash == fingerprint(token))
    request = session.scalar(query.with_for_update() if lock else query)
    if request is None:
        raise NotFound("this link is not known: check that you copied all of it")
    if request.state == ConsentState.replaced.value:
        raise Conflict("a newer link was sent for this request: use the latest email")
    if request.state != ConsentState.pending.value:
        raise Conflict("this link was already used")
    if aware(request.verify_expires_at) <= now:
        raise LinkExpired("this link has expired: ask for the account to be set up again")
    return request


def _person_of(session: Session, request: GuardianConsent) -> Person:
    person = session.get(Person, request.person_id)
    if person is None:  # erased between the email and the click
        raise NotFound("this link is not known: check that you copied all of it")
    return person


def _requests(session: Session, person: Person) -> list[GuardianConsent]:
    query = (
        select(GuardianConsent)
        .where(GuardianConsent.person_id == person.id)
        .order_by(GuardianConsent.id)
    )
    return list(session.scalars(query))


def _audit(session: Session, actor: str, action: str, person: Person, reason: str) -> None:
    record(
        session,
        actor=actor,
        action=action,
        outcome=Outcome.allowed,
        reason=reason,
        subject_id=person.public_id,
    )


@dataclass(frozen=True)
class RequestView:
    state: str
    requested_at: dt.datetime
    link_expires_at: dt.datetime
    consented_at: dt.datetime | None
    method: str | None
    policy_version: int | None
    policy_last_updated: dt.date | None
    withdrawn_at: dt.datetime | None
    guardian_email: str | None
    """Shown only when the actor may use guardian_email for the essential purpose."""


@dataclass(frozen=True)
class GuardianState:
    public_id: str
    status: str
    held: bool
    age_check: AgeCheck | None
    requests: list[RequestView]


def guardian_state(
    session: Session, ctx: PeopleContext, actor: Actor, person: Person
) -> GuardianState:
    """The person's status, their last age check and every guardian request, oldest first."""
    requests = _requests(session, person)
    show = bool(requests) and bool(ctx.guard.check(actor, PURPOSE, ["guardian_email"]))
    if show:
        subject = subject_for(person)
        authorize(
            session,
            ctx.guard,
            actor,
            PURPOSE,
            ["guardian_email"],
            action="guardian.read",
            subject=subject,
        )
    check = session.scalar(select(AgeCheck).where(AgeCheck.person_id == person.id))
    views = [_view(ctx, person, request, show) for request in requests]
    return GuardianState(person.public_id, person.status, is_held(person), check, views)


def _view(ctx: PeopleContext, person: Person, request: GuardianConsent, show: bool) -> RequestView:
    address = (
        ctx.cipher.decrypt(person.public_id, "guardian_email", request.guardian_address)
        if show
        else None
    )
    return RequestView(
        state=request.state,
        requested_at=aware(request.requested_at),
        link_expires_at=aware(request.verify_expires_at),
        consented_at=aware(request.consented_at) if request.consented_at else None,
        method=request.method,
        policy_version=request.policy_version,
        policy_last_updated=request.policy_last_updated,
        withdrawn_at=aware(request.withdrawn_at) if request.withdrawn_at else None,
        guardian_email=address,
    )
