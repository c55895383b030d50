"""`troth demo`: the example policy (two published versions), months of traffic, an admin."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from troth.analytics.demo import generate_demo_traffic
from troth.config import Settings
from troth.policy import service as policy_service
from troth.policy.example import EXAMPLE_POLICY
from troth.policy.guard import Actor
from troth.policy.loader import parse_policy
from troth.runtime import Runtime
from troth.security import passwords, users

ACTOR = "system:demo"
DEMO_DAYS = 120
ADMIN_EMAIL = "admin@lumeninsights.example"
PAGES = [
    ("Analytics dashboard", "/console/analytics"),
    ("Privacy policy", "/privacy"),
    ("Policy history", "/privacy/history"),
    ("Console", "/console/"),
    ("API docs", "/api/docs"),
    ("Health", "/healthz"),
]
EARLIER = {
    "last_updated: 2026-11-01": "last_updated: 2025-06-02",
    "deadline_days: 30": "deadline_days: 45",
}


def _earlier_version(source: str) -> str:
    for current, earlier in EARLIER.items():
        source = source.replace(current, earlier)
    return source


@dataclass(frozen=True)
class Demo:
    runtime: Runtime
    admin_email: str
    admin_password: str


def _admin_with_new_password(runtime: Runtime, now: dt.datetime) -> str:
    """The demo's admin gets a fresh random password on every run, printed to the console."""
    password = secrets.token_urlsafe(15)
    with runtime.transaction() as session:
        admin = users.find_by_email(session, ADMIN_EMAIL)
        if admin is None:
            users.create(
                session,
                runtime.declaration,
                Actor.system("demo"),
                email=ADMIN_EMAIL,
                role="admin",
                password=password,
                now=now,
            )
        else:
            admin.password_hash = passwords.hash_password(password)
            admin.disabled = False
    return password


def prepare(settings: Settings, progress: Callable[[int], None] | None = None) -> Demo:
    """Idempotent: running the demo again keeps what the last run made."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if not settings.policy_file.exists():
        settings.policy_file.write_text(EXAMPLE_POLICY.read_text())
    runtime = Runtime.start(settings)
    current = settings.policy_file.read_text()
    with runtime.transaction() as session:
        if policy_service.latest(session) is None:
            now = dt.datetime.now(dt.UTC)
            earlier = parse_policy(_earlier_version(current), str(settings.policy_file))
            policy_service.publish(session, earlier, ACTOR, now - dt.timedelta(days=540))
            policy_service.publish(session, parse_policy(current), ACTOR, now)
    runtime.policy_changed()
    generate_demo_traffic(runtime, days=DEMO_DAYS, progress=progress)
    password = _admin_with_new_password(runtime, dt.datetime.now(dt.UTC))
    return Demo(runtime, ADMIN_EMAIL, password)
