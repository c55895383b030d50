"""Console sign-in: cookies, no enumeration, throttling, lockout, TOTP, CSRF, rehash (SE1, SE2)."""

from __future__ import annotations

import httpx
import pyotp
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner, Result

from tests.unit.security.support import (
    ADMIN,
    PASSWORD,
    FakeClock,
    add_user,
    app_with_clock,
    form_token,
    session_for,
    sign_in_token,
)
from troth.audit.models import AuditEntry
from troth.cli import users as users_cli
from troth.config import Settings
from troth.errors import Conflict, Unprocessable
from troth.runtime import Runtime
from troth.security import passwords, users
from troth.security.double_submit import CSRF_REFUSAL
from troth.security.models import ConsoleUser, SignInAttempt
from troth.security.signin import INVALID, LOCKED
from troth.security.tokens import csrf_token

EMAIL = "ops.lead@lumeninsights.example"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(runtime: Runtime, clock: FakeClock) -> TestClient:
    return TestClient(app_with_clock(runtime, clock))


def sign_in(client: TestClient, email: str, password: str) -> httpx.Response:
    token = sign_in_token(client)
    response: httpx.Response = client.post(
        "/console/sign-in",
        data={"email": email, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    return response


def test_se1_sign_in_sets_a_locked_down_session_cookie(
    runtime: Runtime, client: TestClient
) -> None:
    add_user(runtime, EMAIL, "admin")
    response = sign_in(client, "Ops.Lead@LumenInsights.example", PASSWORD)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("troth_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/" in cookie
    assert "Secure" not in cookie
    overview = client.get("/console/")
    assert overview.status_code == 200
    assert EMAIL in overview.text
    assert "fraud_prevention" in overview.text


def test_se1_cookie_is_secure_when_served_over_https(runtime: Runtime, clock: FakeClock) -> None:
    add_user(runtime, EMAIL, "admin")
    settings = Settings(**{**runtime.settings.model_dump(), "public_url": "https://troth.example"})
    secure = Runtime(settings=settings, engine=runtime.engine, sessions=runtime.sessions)
    client = TestClient(app_with_clock(secure, clock), base_url="https://testserver")
    response = sign_in(client, EMAIL, PASSWORD)
    assert response.status_code == 303
    assert "Secure" in response.headers["set-cookie"]


def test_se1_unknown_email_and_wrong_password_look_the_same(
    runtime: Runtime, client: TestClient
) -> None:
    add_user(runtime, EMAIL, "admin")
    wrong_password = sign_in(client, EMAIL, "not the right password at all")
    unknown_email = sign_in(client, "nobody@lumeninsights.example", "not the right password")
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.text == unknown_email.text
    assert INVALID in wrong_password.text


def test_se1_account_locks_after_five_failures(
    runtime: Runtime, client: TestClient, clock: FakeClock
) -> None:
    add_user(runtime, EMAIL, "support")
    for _ in range(4):
        assert INVALID in sign_in(client, EMAIL, "a wrong password here").text
        clock.advance(minutes=1)
    fifth = sign_in(client, EMAIL, "a wrong password here")
    assert LOCKED in fifth.text
    during = sign_in(client, EMAIL, PASSWORD)
    assert during.status_code == 401
    assert LOCKED in during.text
    clock.advance(minutes=14)
    assert LOCKED in sign_in(client, EMAIL, PASSWORD).text
    clock.advance(minutes=1, seconds=1)
    assert sign_in(client, EMAIL, PASSWORD).status_code == 303
    with runtime.transaction() as session:
        user = users.find_by_email(session, EMAIL)
        assert user is not None
        assert user.failed_count == 0
        assert user.locked_until is None


def test_se1_failures_spread_beyond_the_window_do_not_lock(
    runtime: Runtime, client: TestClient, clock: FakeClock
) -> None:
    add_user(runtime, EMAIL, "support")
    for _ in range(6):
        assert INVALID in sign_in(client, EMAIL, "a wrong password here").text
        clock.advance(minutes=4)
    assert sign_in(client, EMAIL, PASSWORD).status_code == 303


def test_se1_unknown_email_locks_like_a_real_one(runtime: Runtime, client: TestClient) -> None:
    texts = [
        sign_in(client, "ghost@lumeninsights.example", "whatever it is").text for _ in range(6)
    ]
    assert LOCKED in texts[4]
    assert LOCKED in texts[5]


def test_se1_one_address_is_throttled_after_twenty_failures(
    runtime: Runtime, client: TestClient, clock: FakeClock
) -> None:
    for number in range(20):
        response = sign_in(client, f"someone{number}@lumeninsights.example", "a wrong password")
        assert response.status_code == 401
        clock.advance(seconds=10)
    throttled = sign_in(client, "another@lumeninsights.example", "a wrong password")
    assert throttled.status_code == 429
    retry_after = int(throttled.headers["retry-after"])
    assert 0 < retry_after <= 15 * 60
    clock.advance(seconds=retry_after)
    assert sign_in(client, "another@lumeninsights.example", "a wrong password").status_code == 401


def test_se1_throttling_stores_no_email_or_address(runtime: Runtime, client: TestClient) -> None:
    sign_in(client, EMAIL, "a wrong password here")
    with runtime.transaction() as session:
        rows = session.scalars(select(SignInAttempt)).all()
        assert rows
        for row in rows:
            assert "@" not in row.email_hash
            assert "testclient" not in row.ip_hash
            assert len(row.email_hash) == len(row.ip_hash) == 64


def test_se1_sign_in_is_audited_by_id_only(runtime: Runtime, client: TestClient) -> None:
    user_id = add_user(runtime, EMAIL, "admin")
    sign_in(client, EMAIL, "a wrong password here")
    sign_in(client, EMAIL, PASSWORD)
    with runtime.transaction() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "console.sign_in"))
        seen = [(entry.actor, entry.outcome) for entry in entries]
        text = " ".join(
            f"{e.actor} {e.reason} {e.subject_id}" for e in session.scalars(select(AuditEntry))
        )
    assert (f"console_user:{user_id}", "denied") in seen
    assert (f"console_user:{user_id}", "allowed") in seen
    assert "@" not in text
    assert PASSWORD not in text


def test_se1_totp_is_asked_after_the_password_and_cannot_be_replayed(
    runtime: Runtime, client: TestClient, clock: FakeClock
) -> None:
    user_id = add_user(runtime, EMAIL, "admin")
    with runtime.transaction() as session:
        secret, uri = users.enrol_totp(session, ADMIN, users.get(session, user_id))
    assert uri.startswith("otpauth://totp/")
    first = sign_in(client, EMAIL, PASSWORD)
    assert first.headers["location"] == "/console/sign-in/code"
    assert client.get("/console/", follow_redirects=False).status_code == 303
    code_page = client.get("/console/sign-in/code")
    token = form_token(code_page.text)
    wrong = client.post("/console/sign-in/code", data={"code": "000000", "csrf_token": token})
    assert wrong.status_code == 401
    code = pyotp.TOTP(secret).at(clock.now)
    right = client.post(
        "/console/sign-in/code",
        data={"code": code, "csrf_token": token},
        follow_redirects=False,
    )
    assert right.status_code == 303
    assert right.headers["location"] == "/console/"
    assert client.get("/console/").status_code == 200

    again = TestClient(client.app)
    sign_in(again, EMAIL, PASSWORD)
    token = form_token(again.get("/console/sign-in/code").text)
    replay = again.post("/console/sign-in/code", data={"code": code, "csrf_token": token})
    assert replay.status_code == 401
    clock.advance(seconds=30)
    fresh = pyotp.TOTP(secret).at(clock.now)
    accepted = again.post(
        "/console/sign-in/code", data={"code": fresh, "csrf_token": token}, follow_redirects=False
    )
    assert accepted.status_code == 303


def test_se1_totp_accepts_one_step_of_drift_only(
    runtime: Runtime, client: TestClient, clock: FakeClock
) -> None:
    user_id = add_user(runtime, EMAIL, "admin")
    with runtime.transaction() as session:
        secret, _ = users.enrol_totp(session, ADMIN, users.get(session, user_id))
    sign_in(client, EMAIL, PASSWORD)
    token = form_token(client.get("/console/sign-in/code").text)
    stale = pyotp.TOTP(secret).at(clock.now, counter_offset=-2)
    assert (
        client.post("/console/sign-in/code", data={"code": stale, "csrf_token": token}).status_code
        == 401
    )
    late = pyotp.TOTP(secret).at(clock.now, counter_offset=-1)
    assert (
        client.post(
            "/console/sign-in/code",
            data={"code": late, "csrf_token": token},
            follow_redirects=False,
        ).status_code
        == 303
    )


def test_se1_console_forms_refuse_a_missing_or_wrong_csrf_token(
    runtime: Runtime, client: TestClient
) -> None:
    user_id = add_user(runtime, EMAIL, "admin")
    cookie, token = session_for(runtime, user_id)
    client.cookies.set("troth_session", cookie)
    form = {"name": "ci", "role": "auditor"}
    missing = client.post("/console/tokens", data=form, headers={"accept": "text/html"})
    assert missing.status_code == 403
    assert CSRF_REFUSAL in missing.text
    wrong = client.post("/console/tokens", data={**form, "csrf_token": "0" * 64})
    assert wrong.status_code == 403
    other_secret = csrf_token("another session's secret")
    assert (
        client.post("/console/tokens", data={**form, "csrf_token": other_secret}).status_code == 403
    )
    ok = client.post("/console/tokens", data={**form, "csrf_token": token})
    assert ok.status_code == 200
    assert "troth_" in ok.text
    assert client.post("/console/sign-out", follow_redirects=False).status_code == 403


def test_se1_sign_in_form_needs_its_double_submit_token(
    runtime: Runtime, client: TestClient
) -> None:
    add_user(runtime, EMAIL, "admin")
    sign_in_token(client)
    no_field = client.post("/console/sign-in", data={"email": EMAIL, "password": PASSWORD})
    assert no_field.status_code == 403
    fresh = TestClient(client.app)
    no_cookie = fresh.post(
        "/console/sign-in", data={"email": EMAIL, "password": PASSWORD, "csrf_token": "forged"}
    )
    assert no_cookie.status_code == 403


def test_se1_sign_out_ends_the_session(runtime: Runtime, client: TestClient) -> None:
    add_user(runtime, EMAIL, "admin")
    sign_in(client, EMAIL, PASSWORD)
    token = form_token(client.get("/console/").text)
    out = client.post("/console/sign-out", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert out.headers["location"] == "/console/sign-in"
    assert client.get("/console/", follow_redirects=False).status_code == 303


def test_se1_session_expires_after_the_configured_hours(
    runtime: Runtime, client: TestClient, clock: FakeClock
) -> None:
    add_user(runtime, EMAIL, "admin")
    sign_in(client, EMAIL, PASSWORD)
    clock.advance(hours=runtime.settings.session_hours - 0.01)
    assert client.get("/console/").status_code == 200
    clock.advance(hours=0.02)
    expired = client.get("/console/", follow_redirects=False)
    assert expired.status_code == 303
    assert expired.headers["location"] == "/console/sign-in"


def test_se1_disabled_user_cannot_sign_in(runtime: Runtime, client: TestClient) -> None:
    add_user(runtime, EMAIL, "admin")
    sign_in(client, EMAIL, PASSWORD)
    with runtime.transaction() as session:
        user = users.find_by_email(session, EMAIL)
        assert user is not None
        users.disable(session, ADMIN, user)
    assert client.get("/console/", follow_redirects=False).status_code == 303
    assert INVALID in sign_in(client, EMAIL, PASSWORD).text


def test_se2_weaker_hash_is_upgraded_at_sign_in(runtime: Runtime, client: TestClient) -> None:
    add_user(runtime, EMAIL, "admin")
    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    with runtime.transaction() as session:
        user = users.find_by_email(session, EMAIL)
        assert user is not None
        user.password_hash = weak
    assert sign_in(client, EMAIL, PASSWORD).status_code == 303
    with runtime.transaction() as session:
        stored = session.scalars(select(ConsoleUser.password_hash)).one()
    assert stored != weak
    assert not passwords.needs_rehash(stored)
    assert passwords.verify(stored, PASSWORD)


def test_se2_console_user_creation_applies_the_rules(runtime: Runtime) -> None:
    with pytest.raises(Unprocessable, match="at least 12"):
        add_user(runtime, EMAIL, "admin", password="too short")
    with pytest.raises(Unprocessable, match="commonly used or breached"):
        add_user(runtime, EMAIL, "admin", password="password1234")
    with pytest.raises(Unprocessable, match="email"):
        add_user(runtime, EMAIL, "admin", password="ops.lead.ops.lead")
    with pytest.raises(Unprocessable, match=r"unknown role .root..*admin, analyst, auditor"):
        add_user(runtime, EMAIL, "root")
    add_user(runtime, EMAIL, "admin", password="p" * 64 + " and more")
    with pytest.raises(Conflict):
        add_user(runtime, EMAIL.upper(), "support")


def test_se2_change_password_in_the_console(runtime: Runtime, client: TestClient) -> None:
    add_user(runtime, EMAIL, "analyst")
    sign_in(client, EMAIL, PASSWORD)
    token = form_token(client.get("/console/account").text)
    weak = client.post(
        "/console/account/password",
        data={
            "current": PASSWORD,
            "password": "short",
            "password_again": "short",
            "csrf_token": token,
        },
    )
    assert weak.status_code == 422
    assert "at least 12" in weak.text
    new = "a brand new passphrase for the console"
    changed = client.post(
        "/console/account/password",
        data={"current": PASSWORD, "password": new, "password_again": new, "csrf_token": token},
    )
    assert changed.status_code == 200
    assert INVALID in sign_in(TestClient(client.app), EMAIL, PASSWORD).text
    assert sign_in(TestClient(client.app), EMAIL, new).status_code == 303


def test_se2_admin_adds_a_user_from_the_console(runtime: Runtime, client: TestClient) -> None:
    add_user(runtime, EMAIL, "admin")
    sign_in(client, EMAIL, PASSWORD)
    token = form_token(client.get("/console/users").text)
    form = {"email": "new.analyst@lumeninsights.example", "role": "analyst", "csrf_token": token}
    refused = client.post(
        "/console/users",
        data={**form, "password": "password1234", "password_again": "password1234"},
    )
    assert refused.status_code == 422
    assert passwords.COMMON_REASON in refused.text
    good = "a long and unusual console phrase"
    added = client.post("/console/users", data={**form, "password": good, "password_again": good})
    assert added.status_code == 200
    assert "new.analyst@lumeninsights.example" in added.text


def cli(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, args: list[str], stdin: str = ""
) -> Result:
    settings = runtime.settings
    monkeypatch.setenv("TROTH_CONFIG", str(settings.data_dir / "absent.toml"))
    monkeypatch.setenv("TROTH_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("TROTH_POLICY_FILE", str(settings.policy_file))
    monkeypatch.setenv("TROTH_DATA_DIR", str(settings.data_dir))
    return CliRunner().invoke(users_cli.app, args, input=stdin)


def test_se2_troth_user_commands(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    added = cli(
        runtime,
        monkeypatch,
        ["add", EMAIL, "--role", "auditor", "--password-stdin"],
        PASSWORD + "\n",
    )
    assert added.exit_code == 0, added.output
    prompted = cli(
        runtime,
        monkeypatch,
        ["add", "second@lumeninsights.example", "--role", "support"],
        f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert prompted.exit_code == 0, prompted.output
    listed = cli(runtime, monkeypatch, ["list"])
    assert EMAIL in listed.output
    assert "auditor" in listed.output
    enrolled = cli(runtime, monkeypatch, ["totp", EMAIL])
    assert "otpauth://totp/" in enrolled.output
    assert cli(runtime, monkeypatch, ["disable", EMAIL]).exit_code == 0
    assert "disabled" in cli(runtime, monkeypatch, ["list"]).output


def test_se2_troth_user_add_refuses_bad_input(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    weak = cli(
        runtime,
        monkeypatch,
        ["add", EMAIL, "--role", "admin", "--password-stdin"],
        "password1234\n",
    )
    assert isinstance(weak.exception, Unprocessable)
    assert "commonly used or breached" in weak.exception.message
    role = cli(
        runtime, monkeypatch, ["add", EMAIL, "--role", "boss", "--password-stdin"], PASSWORD + "\n"
    )
    assert isinstance(role.exception, Unprocessable)
    assert "privacy_officer" in role.exception.message
    cli(
        runtime, monkeypatch, ["add", EMAIL, "--role", "admin", "--password-stdin"], PASSWORD + "\n"
    )
    duplicate = cli(
        runtime, monkeypatch, ["add", EMAIL, "--role", "admin", "--password-stdin"], PASSWORD + "\n"
    )
    assert isinstance(duplicate.exception, Conflict)
