"""Whether the pieces of the declaration agree: `troth policy check`.

The schema checks shapes; each rule here checks one way two pieces can disagree and
yields a problem per disagreement, so adding a check is adding a function to a RULES list.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from troth.policy.checks import cookies, document, messages, sharing, usage
from troth.policy.checks.base import Context, Rule
from troth.policy.loader import LoadedPolicy, Problem

RULES: list[Rule] = [
    *document.RULES,
    *usage.RULES,
    *cookies.RULES,
    *sharing.RULES,
    *messages.RULES,
]


def find_problems(loaded: LoadedPolicy, today: dt.date) -> list[Problem]:
    """Every problem of the declaration, ordered by its line in the file."""
    context = Context(loaded.declaration, today)
    found = [
        dataclasses.replace(problem, line=loaded.line_of(problem.path))
        for rule in RULES
        for problem in rule(context)
    ]
    return sorted(found, key=lambda problem: problem.line or 0)


__all__ = ["RULES", "Problem", "find_problems"]
