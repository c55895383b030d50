"""The children's rule end to end (CH1): holding, the guardian's email through a real SMTP
server, consent and withdrawal through the public pages, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.unit.people.support import ADMIN, MARKETING, people_context, storage_holds
from tests.unit.security.support import START, FakeClock, add_token, app_with_clock, form_token
from troth.audit.models import AuditEntry
from troth.comms import sending
from troth.comms.outbox import Outbox
from troth.comms.service import queue_email
from troth.errors import Forbidden, Unprocessable
from troth.jobs.registry import Registry
from troth.jobs.worker import run_once
from troth.people import guardians, service
from troth.people.guardian_models import AgeCheck, ConsentState, GuardianConsent
from troth.people.guardians import GuardianContext, HoldResult
from troth.people.models import Person, PersonStatus
from troth.policy.guard import Actor
from troth.runtime import Runtime

if TYPE_CHECKING:
    from tests.smtp_server import SmtpServer

SIGN_UP = Actor.system("sign_up")
GUARDIAN = "morgan.parent@family.example"
YOUNG = "robin.young@family.example"
TODAY = START.date()
LINK = re.compile(r"https?://\S+/guardian/verify/([A-Za-z0-9_-]+)")


def born_years_ago(years: int, days: int = 0) -> str:
    """A date of birth `years` years before START, shifted by `days` (negative: later)."""
    return (TODAY.replace(year=TODAY.year - years) - dt.timedelta(days=days)).isoformat()


@dataclass
class Flow:
    runtime: Runtime
    ctx: GuardianContext
    registry: Registry
    smtp: SmtpServer
    made: int = 0
    """People made so far; the first has the address YOUNG."""

    def person(self, country: str | None = None, region: str | None = None) -> str:
        self.made += 1
        email = YOUNG if self.made == 1 else f"robin.{self.made}@family.example"
        given: dict[str, object] = {"name": "Robin Young", "email": email}
        given.update({k: v for k, v in (("country", country), ("region", region)) if v})
        with self.runtime.transaction() as session:
            view = service.create_person(
                session, self.ctx.people, SIGN_UP, given, purpose="deliver_services"
            )
        return view.public_id

    def hold(self, public_id: str, **kwargs: object) -> HoldResult:
        kwargs.setdefault("guardian_email", GUARDIAN)
        with self.runtime.transaction() as session:
            person = service.get(session, public_id)
            return guardians.hold_if_minor(
                session,
                self.ctx,
                SIGN_UP,
                person,
                now=START,
                **kwargs,  # type: ignore[arg-type]
            )

    def status(self, public_id: str) -> str:
        with self.runtime.transaction() as session:
            return service.get(session, public_id).status

    def send(self) -> int:
        return run_once(self.runtime.sessions, self.registry, "w1", now=dt.datetime.now(dt.UTC))

    def token(self) -> str:
        """The verification token in the one email the guardian got."""
        self.send()
        assert len(self.smtp.messages) == 1
        mail = self.smtp.messages[0]
        assert mail.rcpt_tos == [GUARDIAN]
        found = LINK.search(mail.message.get_body(("plain",)).get_content())  # type: ignore[union-attr]
        assert found is not None
        return found.group(1)

    def requests(self, public_id: str) -> list[GuardianConsent]:
        with self.runtime.transaction() as session:
            person = service.get(session, public_id)
            query = select(GuardianConsent).where(GuardianConsent.person_id == person.id)
            return list(session.scalars(query))


@pytest.fixture
def flow(runtime: Runtime, smtp_server: SmtpServer) -> Flow:
    people = people_context(runtime)
    outbox = Outbox.for_runtime(runtime, runtime.keys, smtp_server.settings())
    registry = Registry()
    sending.register(registry, outbox)
    ctx = GuardianContext(people, outbox, "https://troth.lumeninsights.example")
    return Flow(runtime, ctx, registry, smtp_server)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(runtime: Runtime, clock: FakeClock) -> TestClient:
    return TestClient(app_with_clock(runtime, clock))


def test_ch1_a_17_year_old_in_oregon_is_held_and_the_guardian_gets_one_email(
    flow: Flow,
) -> None:
    public_id = flow.person("US", "US-OR")
    result = flow.hold(public_id, date_of_birth=born_years_ago(17))
    assert (result.held, result.age, result.threshold) == (True, 17, 18)
    assert flow.status(public_id) == PersonStatus.awaiting_guardian
    token = flow.token()
    assert flow.send() == 0
    assert len(flow.smtp.messages) == 1
    body = flow.smtp.messages[0].message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Robin" in body
    assert "Young" not in body
    [request] = flow.requests(public_id)
    assert request.state == ConsentState.pending
    assert request.verify_hash != token
    assert token not in str(request.verify_hash)


def test_ch1_an_18_year_old_in_alabama_is_held(flow: Flow) -> None:
    public_id = flow.person("US", "US-AL")
    result = flow.hold(public_id, age=18)
    assert (result.held, result.threshold) == (True, 19)
    assert flow.status(public_id) == PersonStatus.awaiting_guardian


def test_ch1_a_20_year_old_in_mississippi_is_held(flow: Flow) -> None:
    public_id = flow.person("US", "US-MS")
    result = flow.hold(public_id, date_of_birth=born_years_ago(20))
    assert (result.held, result.threshold) == (True, 21)


def test_ch1_an_18_year_old_in_germany_is_allowed(flow: Flow) -> None:
    public_id = flow.person("DE")
    result = flow.hold(public_id, date_of_birth=born_years_ago(18), guardian_email=None)
    assert (result.held, result.threshold, result.needs_review) == (False, 18, False)
    assert flow.status(public_id) == PersonStatus.active
    assert flow.requests(public_id) == []
    assert flow.send() == 0


def test_ch1_an_18_year_old_in_british_columbia_is_held_until_19(flow: Flow) -> None:
    public_id = flow.person("CA", "CA-BC")
    assert flow.hold(public_id, age=18).held
    adult = flow.hold(public_id, age=19, guardian_email=None)
    assert (adult.held, adult.threshold) == (False, 19)


def test_ch1_an_unknown_jurisdiction_uses_18_and_is_flagged_for_review(
    flow: Flow, runtime: Runtime
) -> None:
    public_id = flow.person()
    result = flow.hold(public_id, age=18, guardian_email=None)
    assert (result.held, result.threshold, result.needs_review) == (False, 18, True)
    with runtime.transaction() as session:
        person = service.get(session, public_id)
        check = session.scalar(select(AgeCheck).where(AgeCheck.person_id == person.id))
        assert check is not None
        assert check.needs_review
        assert check.threshold == 18
        flagged = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "person.age_review", AuditEntry.subject_id == public_id
            )
        ).all()
    assert len(flagged) == 1
    assert flow.hold(public_id, age=17, jurisdiction="XX").held


def test_ch1_birthday_arithmetic_the_day_before_and_the_day_of_the_18th(flow: Flow) -> None:
    public_id = flow.person("DE")
    day_before = flow.hold(public_id, date_of_birth=born_years_ago(18, days=-1))
    assert (day_before.held, day_before.age) == (True, 17)
    other = flow.person("FR")
    on_the_day = flow.hold(other, date_of_birth=born_years_ago(18), guardian_email=None)
    assert (on_the_day.held, on_the_day.age) == (False, 18)


def test_ch1_a_minor_needs_a_usable_guardian_address(flow: Flow) -> None:
    public_id = flow.person("US", "US-OR")
    with pytest.raises(Unprocessable, match="guardian_email: a parent or guardian"):
        flow.hold(public_id, age=15, guardian_email=None)
    with pytest.raises(Unprocessable, match="guardian_email: must be a parent"):
        flow.hold(public_id, age=15, guardian_email=YOUNG)
    with pytest.raises(Unprocessable, match="guardian_email: not a valid"):
        flow.hold(public_id, age=15, guardian_email="not an address")
    with pytest.raises(Unprocessable, match="date_of_birth: must not be in the future"):
        flow.hold(public_id, date_of_birth="2999-01-01")
    assert flow.status(public_id) == PersonStatus.active


def test_ch1_consent_through_the_link_releases_the_person(
    flow: Flow, client: TestClient, runtime: Runtime
) -> None:
    public_id = flow.person("US", "US-OR")
    flow.hold(public_id, age=16)
    token = flow.token()

    page = client.get(f"/guardian/verify/{token}")
    assert page.status_code == 200
    assert "Robin" in page.text
    assert "Young" not in page.text
    assert "under 18" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    done = client.post(f"/guardian/verify/{token}", data={"csrf_token": form_token(page.text)})
    assert done.status_code == 200, done.text
    assert "/guardian/withdraw/" in done.text

    assert flow.status(public_id) == PersonStatus.active
    [request] = flow.requests(public_id)
    assert request.state == ConsentState.consented
    assert request.method == "email link"
    assert request.consented_at is not None
    assert request.policy_last_updated == runtime.declaration.last_updated
    assert request.guardian_digest == flow.ctx.people.cipher.blind_index("guardian_email", GUARDIAN)
    assert storage_holds(runtime, GUARDIAN) == []


def test_ch1_withdrawal_suspends_the_account(flow: Flow, client: TestClient) -> None:
    public_id = flow.person("US", "US-AL")
    flow.hold(public_id, age=18)
    token = flow.token()
    page = client.get(f"/guardian/verify/{token}")
    done = client.post(f"/guardian/verify/{token}", data={"csrf_token": form_token(page.text)})
    withdraw_url = re.search(r'href="[^"]*(/guardian/withdraw/[^"]+)"', done.text)
    assert withdraw_url is not None

    asked = client.get(withdraw_url.group(1))
    assert asked.status_code == 200
    gone = client.post(withdraw_url.group(1), data={"csrf_token": form_token(asked.text)})
    assert gone.status_code == 200

    assert flow.status(public_id) == PersonStatus.suspended
    [request] = flow.requests(public_id)
    assert request.state == ConsentState.withdrawn
    assert request.withdrawn_at is not None
    again = client.post(withdraw_url.group(1), data={"csrf_token": form_token(asked.text)})
    assert again.status_code == 409


def test_ch1_used_expired_and_unknown_links_are_refused(
    flow: Flow, client: TestClient, clock: FakeClock
) -> None:
    public_id = flow.person("US", "US-OR")
    flow.hold(public_id, age=16)
    token = flow.token()
    page = client.get(f"/guardian/verify/{token}")
    csrf = form_token(page.text)

    refused = client.post(f"/guardian/verify/{token}", data={"csrf_token": "wrong"})
    assert refused.status_code == 403
    assert client.post(f"/guardian/verify/{token}", data={"csrf_token": csrf}).status_code == 200
    used = client.get(f"/guardian/verify/{token}")
    assert used.status_code == 409
    assert "already used" in used.text
    assert client.post(f"/guardian/verify/{token}", data={"csrf_token": csrf}).status_code == 409
    unknown = client.get("/guardian/verify/not-a-real-token")
    assert unknown.status_code == 404
    assert "not known" in unknown.text
    assert client.get("/guardian/withdraw/not-a-real-token").status_code == 404

    other = flow.person("US", "US-OR")
    flow.hold(other, age=16)
    flow.send()
    late = LINK.search(flow.smtp.messages[1].message.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert late is not None
    clock.advance(days=7, seconds=1)
    expired = client.get(f"/guardian/verify/{late.group(1)}")
    assert expired.status_code == 410
    assert "expired" in expired.text
    assert flow.status(other) == PersonStatus.awaiting_guardian


def test_ch1_while_held_non_essential_purposes_and_promotional_mail_are_refused(
    flow: Flow, runtime: Runtime
) -> None:
    public_id = flow.person("US", "US-OR")
    flow.hold(public_id, age=16)
    with runtime.transaction() as session:
        person = service.get(session, public_id)
        assert guardians.is_held(person)
        subject = guardians.subject_for(person)
    guard = flow.ctx.people.guard
    refused = guard.check(ADMIN, "understand_experience", ["cookie_id"], subject)
    assert not refused
    assert "awaits a guardian" in refused.reason
    assert guard.check(ADMIN, "deliver_services", ["name"], subject)
    with runtime.transaction() as session, pytest.raises(Forbidden, match="awaits a guardian"):
        service.get_person(
            session, flow.ctx.people, ADMIN, public_id, purpose="combine_third_party"
        )
    with runtime.transaction() as session, pytest.raises(Forbidden):
        queue_email(
            session,
            flow.ctx.outbox,
            kind="promotion",
            to_address=YOUNG,
            person_id=public_id,
            template="guardian_consent",
            context={"verification_url": "https://x.example/", "expires_on": "soon"},
            actor=ADMIN,
        )
    promotions = frozenset({"promotional_messages"})
    for status in (PersonStatus.awaiting_guardian, PersonStatus.suspended):
        held = guardians.subject_for(_with_status(status), consented=promotions)
        refused = guard.check(ADMIN, "promotional_messages", ["email"], held)
        assert not refused
        assert "awaits a guardian" in refused.reason
    adult = guardians.subject_for(_with_status(PersonStatus.active), consented=promotions)
    assert guard.check(ADMIN, "promotional_messages", ["email"], adult)


def _with_status(status: PersonStatus) -> Person:
    return Person(public_id="p-1", status=status.value)


def test_ch1_the_admin_api_shows_the_state_and_history(
    flow: Flow, client: TestClient, runtime: Runtime
) -> None:
    public_id = flow.person("US", "US-MS")
    flow.hold(public_id, age=20)
    token = flow.token()
    page = client.get(f"/guardian/verify/{token}")
    client.post(f"/guardian/verify/{token}", data={"csrf_token": form_token(page.text)})

    admin = {"Authorization": f"Bearer {add_token(runtime, 'admin')}"}
    got = client.get(f"/api/v1/people/{public_id}/guardian", headers=admin)
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["status"] == "active"
    assert body["held"] is False
    assert body["age_check"]["threshold"] == 21
    assert body["age_check"]["matched"] == "US-MS"
    [request] = body["requests"]
    assert request["state"] == "consented"
    assert request["method"] == "email link"
    assert request["guardian_email"] == GUARDIAN
    marketing = {"Authorization": f"Bearer {add_token(runtime, MARKETING_ROLE)}"}
    assert client.get(f"/api/v1/people/{public_id}/guardian", headers=marketing).status_code == 403
    assert client.get("/api/v1/people/nobody/guardian", headers=admin).status_code == 404


MARKETING_ROLE = next(iter(MARKETING.roles))
