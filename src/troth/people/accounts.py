"""Customer accounts (SE2): sign-up, sign-in, password changes and resets, acceptance by use.

Password rules follow NIST SP 800-63B-4: a minimum length (the declaration's, 15 by default,
when the password is the only factor; 8 with a second factor), long passwords accepted, no
composition rules, and a refusal of common or breached passwords and of passwords built on
the email address. Hashing, the common list and the equal-time dummy check are the console's
(troth.security.passwords); throttling is the console's too, under keys of its own.

An unknown email and a wrong password get the same answer after the same argon2 work, and a
reset request always gets the same answer whether or not the address has an account.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import pyotp
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn

from troth.audit.service import record
from troth.comms.outbox import Outbox
from troth.comms.service import queue_email
from troth.errors import Forbidden, NotFound, Unprocessable
from troth.people import cleaners, guardians
from troth.people import service as people
from troth.people.account_models import Account, PolicyAcceptance, ResetToken
from troth.people.context import PeopleContext
from troth.people.models import Person, PersonStatus
from troth.people.provenance import GIVEN
from troth.people.service import Origin
from troth.people.subjects import is_held
from troth.policy import service as policy_service
from troth.policy.guard import Actor
from troth.policy.schema import Declaration
from troth.security import passwords, throttle, totp
from troth.security.clock import aware
from troth.security.tokens import fingerprint, new_secret, pseudonym

PURPOSE = "deliver_services"
HOSTED = Actor.system("accounts")
"""Who acts when a person uses the hosted forms."""
SECOND_FACTOR_MIN_LENGTH = 8
ESTIMATE_CHARS = 72
"""zxcvbn estimates at most this many characters; the rest only adds strength."""
TOTP_FIELD = "account.totp_secret"
RESET_LIFETIME = dt.timedelta(hours=1)
RESET_KIND = "security_alert"
RESET_TEMPLATE = "account_reset"
RESETS_PER_LIFETIME = 3
"""Unused links an account may have at once: more requests send nothing (no mail bombing)."""

INVALID = "that email and password do not match an account"
LOCKED = "too many failed attempts; this account is locked for 15 minutes"
THROTTLED = "too many failed sign-in attempts from your address; try again later"
BAD_CODE = "that code is not right or was already used"
AWAITING_GUARDIAN = (
    "this account is waiting for a parent's or guardian's consent; it can be used once they agree"
)
SUSPENDED = "this account is suspended because a parent or guardian withdrew their consent"
RESET_SENT = (
    "if an account exists for that email address, we sent it a link to choose a new password"
)
RESET_INVALID = "this reset link is not valid, was already used or has expired"
REUSE_WARNING = (
    "Use a password you do not use for any other account. If another site leaks it, "
    "whoever has it could try it here too."
)


class Status(StrEnum):
    signed_in = "signed_in"
    needs_code = "needs_code"
    bad_code = "bad_code"
    invalid = "invalid"
    locked = "locked"
    throttled = "throttled"
    held = "held"


@dataclass(frozen=True)
class SignInResult:
    status: Status
    person_id: str | None = None
    """The person's public id, once the password (and code, when enrolled) is right."""
    second_factor: bool = False
    retry_after: int | None = None
    held_reason: str = ""

    @property
    def message(self) -> str:
        messages = {
            Status.invalid: INVALID,
            Status.locked: LOCKED,
            Status.throttled: THROTTLED,
            Status.bad_code: BAD_CODE,
            Status.needs_code: "enter the code from your authenticator app",
        }
        return self.held_reason or messages.get(self.status, "")


@dataclass(frozen=True)
class Attempt:
    email: str
    password: str
    client_ip: str
    now: dt.datetime
    code: str | None = None


@dataclass(frozen=True)
class SignUp:
    email: str
    password: str
    name: str | None = None
    country: str | None = None
    region: str | None = None
    date_of_birth: str | None = None
    age: int | None = None
    guardian_email: str | None = None


@dataclass(frozen=True)
class SignUpResult:
    person_id: str
    held: bool


@dataclass(frozen=True)
class Strength:
    score: int
    """0 (guessable in a few tries) to 4 (very hard to guess), as zxcvbn estimates."""
    warning: str
    suggestions: list[str]
    problem: str | None
    """Why the rules would refuse it, if they would."""


# Password rules


def min_length(declaration: Declaration, *, second_factor: bool) -> int:
    if second_factor:
        return SECOND_FACTOR_MIN_LENGTH
    return declaration.security.customer_password_min_length


def check_password(
    declaration: Declaration, password: str, email: str, *, second_factor: bool
) -> None:
    """Raise Unprocessable with the reason when the rules refuse `password`."""
    length = min_length(declaration, second_factor=second_factor)
    passwords.require_acceptable(password, email, length)


def strength(declaration: Declaration, password: str, email: str = "") -> Strength:
    """The meter's estimate, with the rules' refusal if any (for a single-factor account)."""
    if not password:
        return Strength(0, "", [], None)
    local_part = email.partition("@")[0]
    estimate = zxcvbn(password[:ESTIMATE_CHARS], user_inputs=[v for v in (email, local_part) if v])
    feedback = estimate["feedback"]
    length = min_length(declaration, second_factor=False)
    return Strength(
        score=int(estimate["score"]),
        warning=str(feedback.get("warning") or ""),
        suggestions=[str(s) for s in feedback.get("suggestions", [])],
        problem=passwords.problem(password, email, length),
    )


# Sign-up


def sign_up(
    session: Session,
    ctx: guardians.GuardianContext,
    actor: Actor,
    form: SignUp,
    now: dt.datetime,
) -> SignUpResult:
    """Create the person (given, by sign-up) and their account; hold them if a minor."""
    email = _normalized(form.email)
    check_password(ctx.people.declaration, form.password, email, second_factor=False)
    given = {"email": email, "name": form.name, "country": form.country, "region": form.region}
    view = people.create_person(
        session,
        ctx.people,
        actor,
        {name: value for name, value in given.items() if value},
        purpose=PURPOSE,
        origin=Origin(GIVEN, "sign_up", now),
    )
    person = people.get(session, view.public_id)
    session.add(
        Account(
            person_id=person.id,
            password_hash=passwords.hash_password(form.password),
            failed_count=0,
            created_at=now,
        )
    )
    session.flush()
    held = _hold_if_minor(session, ctx, actor, person, form, now)
    if not held:
        record_use(session, person, "sign_up", now)
    _audit(session, actor, "account.sign_up", person, "allowed", "account created")
    return SignUpResult(person.public_id, held)


def _hold_if_minor(
    session: Session,
    ctx: guardians.GuardianContext,
    actor: Actor,
    person: Person,
    form: SignUp,
    now: dt.datetime,
) -> bool:
    """The children's rule, whenever a date of birth or an age is given (CH1)."""
    if form.date_of_birth is None and form.age is None:
        return False
    guardians.hold_if_minor(
        session,
        ctx,
        actor,
        person,
        date_of_birth=form.date_of_birth,
        age=form.age,
        jurisdiction=person.jurisdiction,
        guardian_email=form.guardian_email,
        now=now,
    )
    return is_held(person)


def _normalized(email: str) -> str:
    try:
        return cleaners.email(email)
    except cleaners.Invalid as exc:
        raise Unprocessable(f"email: {exc}") from None


# Sign-in


def sign_in(session: Session, ctx: PeopleContext, actor: Actor, attempt: Attempt) -> SignInResult:
    keys = _throttle_keys(attempt.email, attempt.client_ip)
    refusal = _refusal(session, keys, attempt.now)
    if refusal is not None:
        passwords.spend_equal_time(attempt.password)
        return refusal
    found = _find(session, ctx, actor, attempt.email)
    if found is None:
        passwords.spend_equal_time(attempt.password)
        return _failed(session, actor, keys, attempt.now, None, "unknown email")
    person, account = found
    if not passwords.verify(account.password_hash, attempt.password):
        return _failed(session, actor, keys, attempt.now, (person, account), "wrong password")
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hash_password(attempt.password)
    if is_held(person):
        reason = _held_reason(person)
        _audit(session, actor, "account.sign_in", person, "denied", "held: " + person.status)
        return SignInResult(Status.held, held_reason=reason)
    if account.totp_secret is not None:
        if not attempt.code:
            return SignInResult(Status.needs_code, second_factor=True)
        if not _accept_code(ctx, person, account, attempt.code, attempt.now):
            failed = _failed(session, actor, keys, attempt.now, (person, account), "wrong code")
            return failed if failed.status is Status.locked else SignInResult(Status.bad_code)
    return _succeeded(session, keys, actor, person, account, attempt.now)


def _held_reason(person: Person) -> str:
    if person.status == PersonStatus.suspended.value:
        return SUSPENDED
    return AWAITING_GUARDIAN


def _throttle_keys(email: str, client_ip: str) -> throttle.Keys:
    """Apart from the console's keys: a customer's failures never lock a console user out."""
    normalized = email.strip().lower()
    return throttle.Keys(
        pseudonym("customer_email", normalized), pseudonym("customer_ip", client_ip)
    )


def _refusal(session: Session, keys: throttle.Keys, now: dt.datetime) -> SignInResult | None:
    retry_after = throttle.address_retry_after(session, keys, now)
    if retry_after is not None:
        return SignInResult(Status.throttled, retry_after=retry_after)
    if throttle.locked_until(session, keys, now) is not None:
        throttle.record_refused(session, keys, now)
        return SignInResult(Status.locked)
    return None


def _find(
    session: Session, ctx: PeopleContext, actor: Actor, email: str
) -> tuple[Person, Account] | None:
    try:
        matches = people.find_by_email(session, ctx, actor, email, purpose=PURPOSE)
    except Unprocessable:
        return None  # not an address at all: answered like an unknown one
    for person in matches:
        account = account_of(session, person)
        if account is not None:
            return person, account
    return None


def account_of(session: Session, person: Person) -> Account | None:
    return session.scalar(select(Account).where(Account.person_id == person.id))


def _accept_code(
    ctx: PeopleContext, person: Person, account: Account, code: str, now: dt.datetime
) -> bool:
    assert account.totp_secret is not None
    secret = ctx.cipher.decrypt(person.public_id, TOTP_FIELD, account.totp_secret)
    step = totp.fresh_step(secret, code, now, account.totp_last_step)
    if step is None:
        return False
    account.totp_last_step = step
    return True


def _failed(
    session: Session,
    actor: Actor,
    keys: throttle.Keys,
    now: dt.datetime,
    found: tuple[Person, Account] | None,
    reason: str,
) -> SignInResult:
    locked = throttle.record_failure(session, keys, now)
    if found is not None:
        person, account = found
        account.failed_count += 1
        if locked is not None:
            account.locked_until = locked
        _audit(session, actor, "account.sign_in", person, "denied", reason)
    return SignInResult(Status.locked if locked is not None else Status.invalid)


def _succeeded(
    session: Session,
    keys: throttle.Keys,
    actor: Actor,
    person: Person,
    account: Account,
    now: dt.datetime,
) -> SignInResult:
    throttle.forget_failures(session, keys)
    account.failed_count = 0
    account.locked_until = None
    account.last_sign_in_at = now
    record_use(session, person, "sign_in", now)
    _audit(session, actor, "account.sign_in", person, "allowed", "signed in")
    second = account.totp_secret is not None
    return SignInResult(Status.signed_in, person_id=person.public_id, second_factor=second)


# Changing the password and the second factor


def change_password(
    session: Session,
    ctx: PeopleContext,
    actor: Actor,
    public_id: str,
    *,
    current: str,
    new: str,
) -> None:
    person, account = _usable_account(session, public_id)
    if not passwords.verify(account.password_hash, current):
        raise Unprocessable("the current password is not right")
    email = _email_of(session, ctx, actor, person)
    second = account.totp_secret is not None
    check_password(ctx.declaration, new, email, second_factor=second)
    account.password_hash = passwords.hash_password(new)
    _audit(session, actor, "account.password", person, "allowed", "password changed")


def enrol_totp(
    session: Session, ctx: PeopleContext, actor: Actor, public_id: str
) -> tuple[str, str]:
    """Give the account a new second-factor secret; return it and its otpauth URI (shown once)."""
    person, account = _usable_account(session, public_id)
    secret = pyotp.random_base32()
    account.totp_secret = ctx.cipher.encrypt(person.public_id, TOTP_FIELD, secret)
    account.totp_last_step = None
    issuer = ctx.declaration.organization.short_name
    name = _email_of(session, ctx, actor, person)
    uri = pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=issuer)
    _audit(session, actor, "account.totp", person, "allowed", "second factor enrolled")
    return secret, uri


def _usable_account(session: Session, public_id: str) -> tuple[Person, Account]:
    person = people.get(session, public_id)
    account = account_of(session, person)
    if account is None:
        raise NotFound(f"person {public_id} has no account")
    if is_held(person):
        raise Forbidden(_held_reason(person))
    return person, account


def _email_of(session: Session, ctx: PeopleContext, actor: Actor, person: Person) -> str:
    view = people.get_person(session, ctx, actor, person.public_id, purpose=PURPOSE)
    return str(view.values.get("email", ""))


# Resetting a forgotten password


def request_reset(
    session: Session,
    ctx: PeopleContext,
    actor: Actor,
    outbox: Outbox,
    email: str,
    *,
    confirm_url: str,
    now: dt.datetime,
) -> None:
    """Mail a single-use link when the address has an account; say nothing either way."""
    found = _find(session, ctx, actor, email)
    if found is None:
        return
    person, account = found
    if _open_resets(session, account, now) >= RESETS_PER_LIFETIME:
        return
    secret = new_secret()
    session.add(
        ResetToken(
            account_id=account.id,
            token_hash=fingerprint(secret),
            created_at=now,
            expires_at=now + RESET_LIFETIME,
        )
    )
    queue_email(
        session,
        outbox,
        kind=RESET_KIND,
        to_address=_normalized(email),
        person_id=person.public_id,
        template=RESET_TEMPLATE,
        context={
            "reset_url": f"{confirm_url}?token={secret}",
            "valid_minutes": int(RESET_LIFETIME.total_seconds() // 60),
        },
        actor=actor,
    )
    _audit(session, actor, "account.reset_request", person, "allowed", "reset link sent")


def _open_resets(session: Session, account: Account, now: dt.datetime) -> int:
    rows = session.scalars(
        select(ResetToken.expires_at).where(
            ResetToken.account_id == account.id, ResetToken.used_at.is_(None)
        )
    )
    return sum(1 for expires_at in rows if aware(expires_at) > now)


def confirm_reset(
    session: Session,
    ctx: PeopleContext,
    actor: Actor,
    token: str,
    new_password: str,
    now: dt.datetime,
) -> str:
    """Set the new password and spend every open link of the account; return the person's id."""
    found = session.scalar(select(ResetToken).where(ResetToken.token_hash == fingerprint(token)))
    if found is None or found.used_at is not None or aware(found.expires_at) <= now:
        raise Unprocessable(RESET_INVALID)
    account = session.get(Account, found.account_id)
    person = session.get(Person, account.person_id) if account is not None else None
    if account is None or person is None:
        raise Unprocessable(RESET_INVALID)
    email = _email_of(session, ctx, actor, person)
    second = account.totp_secret is not None
    check_password(ctx.declaration, new_password, email, second_factor=second)
    account.password_hash = passwords.hash_password(new_password)
    account.failed_count = 0
    session.execute(
        update(ResetToken)
        .where(ResetToken.account_id == account.id, ResetToken.used_at.is_(None))
        .values(used_at=now)
    )
    _audit(session, actor, "account.reset", person, "allowed", "password reset by link")
    return person.public_id


# Acceptance of the policy by use (PC2)


def record_use(session: Session, person: Person, how: str, now: dt.datetime) -> PolicyAcceptance:
    """Note a use that counts as accepting the policy version in force now."""
    version = policy_service.latest(session)
    row = PolicyAcceptance(
        person_id=person.id,
        policy_version=version.number if version is not None else None,
        accepted_at=now,
        how=how,
    )
    session.add(row)
    session.flush()
    return row


def acceptances(session: Session, person_id: int) -> Sequence[PolicyAcceptance]:
    """Every recorded use by the person (their row id in `people`), oldest first."""
    return session.scalars(
        select(PolicyAcceptance)
        .where(PolicyAcceptance.person_id == person_id)
        .order_by(PolicyAcceptance.accepted_at, PolicyAcceptance.id)
    ).all()


def _audit(
    session: Session, actor: Actor, action: str, person: Person, outcome: str, reason: str
) -> None:
    record(
        session,
        actor=actor.id,
        action=action,
        outcome=outcome,
        reason=reason,
        purpose=PURPOSE,
        subject_id=person.public_id,
    )
