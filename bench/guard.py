"""How much one policy-guard check costs, beside the bare set look-ups it is made of.

Run: .venv/bin/python bench/guard.py
"""

from __future__ import annotations

import statistics
import timeit
from pathlib import Path

from troth.policy.guard import Actor, Guard, Subject
from troth.policy.loader import load_policy

EXAMPLE = Path(__file__).parents[1] / "src" / "troth" / "policy" / "example.yaml"
ROUNDS, CALLS = 15, 20_000


def median_ns(statement: object) -> float:
    runs = timeit.repeat(statement, number=CALLS, repeat=ROUNDS)  # type: ignore[arg-type]
    return statistics.median(runs) / CALLS * 1e9


def main() -> None:
    guard = Guard(load_policy(EXAMPLE).declaration)
    analyst = Actor(id="user:1", roles=frozenset({"analyst"}))
    subject = Subject(id="p1", consented=frozenset({"promotional_messages"}))
    categories = ("os", "browser", "referrer")
    allowed = frozenset({"os", "browser", "language", "referrer", "access_times"})
    roles = frozenset({"admin", "analyst"})

    cases = {
        "baseline: frozenset subset + role intersect": lambda: (
            frozenset(categories) <= allowed and bool(analyst.roles & roles)
        ),
        "check: allowed, no subject": lambda: guard.check(
            analyst, "understand_experience", categories
        ),
        "check: allowed, with subject": lambda: guard.check(
            analyst, "understand_experience", categories, subject
        ),
        "check: denied (category outside purpose)": lambda: guard.check(
            analyst, "improve_services", ("email",)
        ),
    }
    print(f"{'case':<46} {'median ns/call':>15}")
    for name, fn in cases.items():
        print(f"{name:<46} {median_ns(fn):>15.0f}")


if __name__ == "__main__":
    main()
