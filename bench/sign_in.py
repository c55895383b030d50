"""What signing in to the console costs: argon2id hash and verify, and a full POST round trip.

The baseline is a bare GET /healthz through the same app and client in the same run, so
the difference is what sign-in itself adds (the argon2 work dominates by design).

Run: .venv/bin/python bench/sign_in.py            (SQLite in a temporary directory)
     .venv/bin/python bench/sign_in.py --rounds 50
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from troth.app import create_app
from troth.config import Settings
from troth.policy.guard import Actor
from troth.runtime import Runtime
from troth.security import passwords, users
from troth.security.clock import utcnow

EXAMPLE = Path(__file__).parents[1] / "src" / "troth" / "policy" / "example.yaml"
EMAIL = "bench.admin@lumeninsights.example"
PASSWORD = "a benchmark passphrase nobody uses"


def median_ms(action: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def hash_and_verify() -> None:
    stored = passwords.hash_password(PASSWORD)
    assert passwords.verify(stored, PASSWORD)


def start_runtime(data_dir: Path) -> Runtime:
    policy = data_dir / "policy.yaml"
    policy.write_text(EXAMPLE.read_text())
    runtime = Runtime.start(Settings(data_dir=data_dir / "data", policy_file=policy))
    with runtime.transaction() as session:
        users.create(
            session,
            runtime.declaration,
            Actor.system("bench"),
            email=EMAIL,
            role="admin",
            password=PASSWORD,
            now=utcnow(),
        )
    return runtime


def sign_in_once(app: object) -> None:
    client = TestClient(app)  # type: ignore[arg-type]
    page = client.get("/console/sign-in")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    response = client.post(
        "/console/sign-in",
        data={"email": EMAIL, "password": PASSWORD, "csrf_token": found.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.status_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=25)
    rounds = parser.parse_args().rounds
    hasher = passwords.hasher
    print(
        f"argon2id m={hasher.memory_cost} KiB, t={hasher.time_cost}, p={hasher.parallelism}; "
        f"median of {rounds} runs"
    )
    print(f"hash + verify:                      {median_ms(hash_and_verify, rounds):8.2f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        runtime = start_runtime(Path(tmp))
        app = create_app(runtime.settings, runtime)
        client = TestClient(app)
        healthz = median_ms(lambda: client.get("/healthz"), rounds)
        sign_in = median_ms(lambda: sign_in_once(app), rounds)
        runtime.close()
    print(f"baseline GET /healthz:              {healthz:8.2f} ms")
    print(f"GET form + POST /console/sign-in:   {sign_in:8.2f} ms")


if __name__ == "__main__":
    main()
