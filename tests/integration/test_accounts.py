"""Customer accounts (SE2) and acceptance by use (PC2 ground), through the API and the hosted
forms, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
import statistics
import time
from typing import TYPE_CHECKING, Any

import pyotp
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.unit.people.support import people_context
from tests.unit.security.support import FakeClock, add_token, app_with_clock
from troth.comms import sending
from troth.comms.outbox import Outbox
from troth.jobs.registry import Registry
from troth.jobs.worker import run_once
from troth.people import accounts
from troth.people.account_models import Account, ResetToken
from troth.people.account_routes import STRENGTH_LIMIT
from troth.people.models import Person
from troth.policy import service as policy_service
from troth.policy.loader import load_policy
from troth.runtime import Runtime
from troth.security.tokens import fingerprint

if TYPE_CHECKING:
    from tests.smtp_server import SmtpServer

EMAIL = "grace.hopper@compilers.example"
PASSWORD = "velvet tugboats wander slowly"
API = "/api/v1/accounts"


class Site:
    """The business's backend calling the accounts API, with a settable clock."""

    def __init__(self, runtime: Runtime) -> None:
        people_context(runtime)
        self.runtime = runtime
        self.clock = FakeClock()
        self.client = TestClient(app_with_clock(runtime, self.clock))
        self.headers = {"Authorization": f"Bearer {add_token(runtime, 'support')}"}

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.client.post(API + path, json=body, headers=self.headers)

    def sign_up(self, **values: Any) -> str:
        made = self.post("", {"email": EMAIL, "password": PASSWORD, **values})
        assert made.status_code == 201, made.text
        person_id: str = made.json()["person_id"]
        return person_id

    def sign_in(self, password: str = PASSWORD, email: str = EMAIL, **more: Any) -> Any:
        body = {"email": email, "password": password, "client_ip": "203.0.113.9", **more}
        return self.post("/sign-in", body)

    def account(self) -> Account:
        with self.runtime.transaction() as session:
            found = session.scalars(select(Account)).one()
            session.expunge(found)
            return found


@pytest.fixture
def site(runtime: Runtime) -> Site:
    return Site(runtime)


def test_se2_sign_up_then_sign_in_returns_the_person(site: Site) -> None:
    person_id = site.sign_up(name="Grace Hopper", country="US", region="US-NY")
    signed = site.sign_in()
    assert signed.status_code == 200, signed.text
    assert signed.json() == {
        "signed_in": True,
        "person_id": person_id,
        "second_factor_required": False,
    }
    view = site.client.get(
        f"/api/v1/people/{person_id}?purpose=deliver_services", headers=site.headers
    ).json()
    assert view["provenance"]["email"] == {
        "source": "given",
        "method": "sign_up",
        "collected_at": view["provenance"]["email"]["collected_at"],
    }
    stored = site.account()
    assert stored.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert PASSWORD not in stored.password_hash


def test_se2_fourteen_characters_refused_fifteen_accepted(site: Site) -> None:
    refused = site.post("", {"email": EMAIL, "password": "lanternmoss#71"})
    assert refused.status_code == 422
    assert refused.json()["detail"] == "the password must be at least 15 characters long"
    assert site.post("", {"email": EMAIL, "password": "lanternmoss#712"}).status_code == 201


def test_se2_128_characters_and_plain_passphrases_accepted(site: Site) -> None:
    long_one = ("marble orchard quietly hums " * 6)[:128]
    site.sign_up(password=long_one)
    assert site.sign_in(long_one).json()["signed_in"] is True
    other = site.post("", {"email": "lin@compilers.example", "password": "allthelowercasewords"})
    assert other.status_code == 201


def test_se2_common_and_email_based_passwords_refused_with_the_reason(site: Site) -> None:
    common = site.post("", {"email": EMAIL, "password": "1qaz2wsx3edc4rfv"})
    assert common.status_code == 422
    assert "commonly used or breached" in common.json()["detail"]
    on_email = site.post("", {"email": EMAIL, "password": "grace.hopper1906!"})
    assert on_email.status_code == 422
    assert "built on your email" in on_email.json()["detail"]


def test_se2_eight_characters_with_a_second_factor(site: Site) -> None:
    person_id = site.sign_up()
    short = {"current_password": PASSWORD, "new_password": "fjord#72"}
    assert site.post(f"/{person_id}/password", short).status_code == 422
    enrolled = site.post(f"/{person_id}/totp", {})
    assert enrolled.status_code == 200
    secret = enrolled.json()["secret"]
    assert site.account().totp_secret is not None
    assert secret.encode() not in (site.account().totp_secret or b"")
    assert site.post(f"/{person_id}/password", short).status_code == 204

    asked = site.sign_in("fjord#72")
    assert asked.json() == {
        "signed_in": False,
        "person_id": None,
        "second_factor_required": True,
    }
    code = pyotp.TOTP(secret).at(site.clock.now)
    signed = site.sign_in("fjord#72", code=code)
    assert signed.json()["signed_in"] is True
    assert signed.json()["person_id"] == person_id
    assert site.sign_in("fjord#72", code=code).status_code == 401  # a code works once


def test_se2_weaker_hash_rehashed_at_sign_in(site: Site) -> None:
    site.sign_up()
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with site.runtime.transaction() as session:
        session.scalars(select(Account)).one().password_hash = weak
    assert site.sign_in().json()["signed_in"] is True
    stored = site.account().password_hash
    assert stored != weak
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def _timed(site: Site, email: str, password: str) -> tuple[Any, float]:
    started = time.perf_counter()
    response = site.sign_in(password, email=email)
    return response, time.perf_counter() - started


def test_se2_unknown_email_and_wrong_password_answer_alike(site: Site) -> None:
    site.sign_up()
    unknown = [_timed(site, "nobody@compilers.example", PASSWORD) for _ in range(3)]
    wrong = [_timed(site, EMAIL, "a wrong but long password") for _ in range(3)]
    bodies = {(r.status_code, r.text) for r, _ in unknown + wrong}
    assert bodies == {(401, '{"detail":"that email and password do not match an account"}')}
    slow, fast = statistics.median(t for _, t in wrong), statistics.median(t for _, t in unknown)
    assert 0.5 < fast / slow < 2.0


def test_se2_lockout_after_repeated_failures(site: Site) -> None:
    site.sign_up()
    answers = [site.sign_in("not the password at all").json()["detail"] for _ in range(5)]
    assert answers[:4] == [accounts.INVALID] * 4
    assert answers[4] == accounts.LOCKED
    assert site.sign_in().json() == {"detail": accounts.LOCKED}  # right password, still locked
    account = site.account()
    assert account.failed_count == 5
    assert account.locked_until is not None
    site.clock.advance(minutes=16)
    assert site.sign_in().json()["signed_in"] is True
    assert site.account().failed_count == 0


def test_se2_held_minor_cannot_sign_in(site: Site) -> None:
    born = dt.date(2026 - 17, 1, 15).isoformat()
    made = site.post(
        "",
        {
            "email": EMAIL,
            "password": PASSWORD,
            "country": "US",
            "region": "US-OR",
            "date_of_birth": born,
            "guardian_email": "parent@compilers.example",
        },
    )
    assert made.status_code == 201, made.text
    assert made.json()["held"] is True
    refused = site.sign_in()
    assert refused.status_code == 403
    assert "guardian" in refused.json()["detail"]
    wrong = site.sign_in("a wrong but long password")
    assert wrong.status_code == 401  # the hold shows only to whoever knows the password


def publish(runtime: Runtime) -> int:
    loaded = load_policy(runtime.settings.policy_file)
    with runtime.transaction() as session:
        return policy_service.publish(session, loaded, "test", dt.datetime.now(dt.UTC)).number


def test_pc2_sign_up_and_sign_in_record_acceptance_with_the_version(site: Site) -> None:
    version = publish(site.runtime)
    site.sign_up()
    site.clock.advance(minutes=5)
    site.sign_in()
    site.sign_in("a wrong but long password")
    with site.runtime.transaction() as session:
        person = session.scalars(select(Person)).one()
        rows = accounts.acceptances(session, person.id)
        seen = [(row.how, row.policy_version) for row in rows]
    assert seen == [("sign_up", version), ("sign_in", version)]


def _reset_outbox(runtime: Runtime, smtp_server: SmtpServer) -> Registry:
    registry = Registry()
    sending.register(registry, Outbox.for_runtime(runtime, runtime.keys, smtp_server.settings()))
    return registry


def test_se2_reset_answers_alike_and_mails_only_a_known_address(
    site: Site, smtp_server: SmtpServer
) -> None:
    site.sign_up()
    unknown = site.post("/reset", {"email": "nobody@compilers.example"})
    invalid = site.post("/reset", {"email": "not an address"})
    known = site.post("/reset", {"email": EMAIL})
    assert {(r.status_code, r.text) for r in (unknown, invalid, known)} == {
        (202, '{"detail":"' + accounts.RESET_SENT + '"}')
    }
    registry = _reset_outbox(site.runtime, smtp_server)
    while run_once(site.runtime.sessions, registry, "w1", now=dt.datetime.now(dt.UTC)):
        pass
    assert len(smtp_server.messages) == 1
    mail = smtp_server.messages[0]
    assert mail.rcpt_tos == [EMAIL]
    body = mail.message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    link = re.search(r"(http\S+/accounts/reset/confirm\?token=(\S+))", text)
    assert link is not None
    token = link.group(2)
    with site.runtime.transaction() as session:
        stored = session.scalars(select(ResetToken)).one()
        assert stored.token_hash != token
        assert token not in stored.token_hash

    new = "copper kettles sing at dawn"
    done = site.post("/reset/confirm", {"token": token, "new_password": new})
    assert done.status_code == 200, done.text
    again = site.post("/reset/confirm", {"token": token, "new_password": new + " twice"})
    assert again.status_code == 422
    assert again.json()["detail"] == accounts.RESET_INVALID
    assert site.sign_in(new).json()["signed_in"] is True


def test_se2_reset_link_expires(site: Site) -> None:
    site.sign_up()
    with site.runtime.transaction() as session:
        account = session.scalars(select(Account)).one()
        session.add(
            ResetToken(
                account_id=account.id,
                token_hash=fingerprint("old-link"),
                created_at=site.clock.now,
                expires_at=site.clock.now + dt.timedelta(hours=1),
            )
        )
    site.clock.advance(minutes=61)
    late = site.post("/reset/confirm", {"token": "old-link", "new_password": PASSWORD + "!"})
    assert late.status_code == 422


def _form_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_se2_hosted_forms_sign_up_and_sign_in_with_csrf(site: Site) -> None:
    client = site.client
    page = client.get("/accounts/sign-up")
    assert page.status_code == 200
    assert "Do not reuse a password" in page.text
    assert "/static/accounts/strength.js" in page.text
    token = _form_token(page.text)
    form = {"email": EMAIL, "password": PASSWORD, "csrf_token": token}
    forged = client.post("/accounts/sign-up", data={**form, "csrf_token": "forged"})
    assert forged.status_code == 403
    too_short = client.post("/accounts/sign-up", data={**form, "password": "short one"})
    assert too_short.status_code == 422
    assert "at least 15 characters" in too_short.text
    made = client.post("/accounts/sign-up", data=form)
    assert made.status_code == 200, made.text
    assert "Your account is ready" in made.text

    unknown = client.post("/accounts/sign-in", data={**form, "email": "nobody@compilers.example"})
    wrong = client.post("/accounts/sign-in", data={**form, "password": "the wrong password!"})
    assert unknown.status_code == wrong.status_code == 401
    assert accounts.INVALID in unknown.text
    assert accounts.INVALID in wrong.text
    signed = client.post("/accounts/sign-in", data=form)
    assert signed.status_code == 200
    assert "Signed in" in signed.text


def test_se2_hosted_reset_and_password_pages_warn_against_reuse(site: Site) -> None:
    for path in ("/accounts/password", "/accounts/reset/confirm?token=x"):
        page = site.client.get(path)
        assert page.status_code == 200
        assert "Do not reuse a password" in page.text
        assert 'id="strength-meter"' in page.text
    reset = site.client.get("/accounts/reset")
    answer = site.client.post(
        "/accounts/reset",
        data={"email": "nobody@compilers.example", "csrf_token": _form_token(reset.text)},
    )
    assert answer.status_code == 200
    assert "If an account exists for that email address" in answer.text


def test_se2_strength_endpoint_estimates_and_is_rate_limited(site: Site) -> None:
    STRENGTH_LIMIT.clear()
    weak = site.client.post("/accounts/password-strength", json={"password": "password1"})
    assert weak.status_code == 200
    body = weak.json()
    assert body["score"] <= 1
    assert body["warning"]
    assert set(body) >= {"score", "warning", "suggestions"}
    answers = [
        site.client.post("/accounts/password-strength", json={"password": "x"}).status_code
        for _ in range(STRENGTH_LIMIT.limit)
    ]
    assert answers[-1] == 429
    STRENGTH_LIMIT.clear()
