"""`troth demo`: a data directory with the example policy, two published versions and keys."""

from __future__ import annotations

import datetime as dt

from troth.config import Settings
from troth.policy import service as policy_service
from troth.policy.example import EXAMPLE_POLICY
from troth.policy.loader import parse_policy
from troth.runtime import Runtime

ACTOR = "system:demo"
PAGES = [
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


def prepare(settings: Settings) -> Runtime:
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
    return runtime
