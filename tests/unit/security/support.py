"""Helpers shared by the security tests: users, signed-in clients, tokens, a settable clock."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from fastapi import FastAPI
from fastapi.testclient import TestClient

from troth.app import create_app
from troth.policy.guard import Actor
from troth.runtime import Runtime
from troth.security import api_tokens, sessions, users
from troth.security.clock import get_clock
from troth.security.models import ConsoleSession
from troth.security.tokens import csrf_token, fingerprint

PASSWORD = "correct horse battery staple 42"
ADMIN = Actor.system("tests")
START = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


@dataclass
class FakeClock:
    now: dt.datetime = field(default=START)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


def app_with_clock(runtime: Runtime, clock: FakeClock) -> FastAPI:
    app = create_app(runtime.settings, runtime)
    app.dependency_overrides[get_clock] = lambda: clock
    return app


def add_user(runtime: Runtime, email: str, role: str, password: str = PASSWORD) -> int:
    declaration = runtime.declaration
    with runtime.transaction() as session:
        user = users.create(
            session, declaration, ADMIN, email=email, role=role, password=password, now=START
        )
        return user.id


def add_token(runtime: Runtime, role: str) -> str:
    declaration = runtime.declaration
    with runtime.transaction() as session:
        _, value = api_tokens.create(
            session, declaration, ADMIN, name=f"{role} token", role=role, now=START
        )
        return value


def session_for(runtime: Runtime, user_id: int, now: dt.datetime = START) -> tuple[str, str]:
    """Open a console session directly; return its cookie value and CSRF token."""
    with runtime.transaction() as session:
        user = users.get(session, user_id)
        value = sessions.start(session, user, now, dt.timedelta(hours=12))
        secret = session.get(ConsoleSession, fingerprint(value))
        assert secret is not None
        return value, csrf_token(secret.csrf_secret)


def sign_in_token(client: TestClient) -> str:
    """The sign-in form's CSRF token (its cookie is kept by the client)."""
    page = client.get("/console/sign-in")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def form_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)
