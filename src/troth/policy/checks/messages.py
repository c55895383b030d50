"""Messages and the promotional ones people can refuse (US1, CC1)."""

from __future__ import annotations

from collections.abc import Iterator

from troth.policy.checks.base import Context, undeclared
from troth.policy.loader import Problem
from troth.policy.schema import Basis, Right


def message_purposes(ctx: Context) -> Iterator[Problem]:
    purposes = ctx.declaration.purposes
    for name, kind in ctx.declaration.message_kinds.items():
        path = ("message_kinds", name, "purpose")
        purpose = purposes.get(kind.purpose)
        if purpose is None:
            yield Problem(path, undeclared("purpose", kind.purpose, "purposes", purposes))
        elif "email" not in purpose.categories:
            yield Problem(
                path,
                f"purpose '{kind.purpose}' may not use 'email', which sending a message needs",
            )


def message_promotional(ctx: Context) -> Iterator[Problem]:
    purposes = ctx.declaration.purposes
    for name, kind in ctx.declaration.message_kinds.items():
        purpose = purposes.get(kind.purpose)
        if purpose is None or purpose.promotional == kind.promotional:
            continue
        if kind.promotional:
            message = f"a promotional kind, but purpose '{kind.purpose}' is not promotional"
        else:
            message = f"not promotional, but purpose '{kind.purpose}' is promotional"
        yield Problem(("message_kinds", name, "promotional"), message)


def promotional_opt_out(ctx: Context) -> Iterator[Problem]:
    for name, purpose in ctx.declaration.purposes.items():
        if purpose.promotional and not purpose.opt_out:
            yield Problem(
                ("purposes", name, "opt_out"),
                "a promotional purpose needs opt_out: true, so people can say no",
            )


def promotional_consent(ctx: Context) -> Iterator[Problem]:
    for name, purpose in ctx.declaration.purposes.items():
        if purpose.promotional and purpose.basis is not Basis.consent:
            yield Problem(
                ("purposes", name, "basis"),
                f"a promotional purpose rests on consent, not {purpose.basis}",
            )


def promotional_right_offered(ctx: Context) -> Iterator[Problem]:
    promotional = any(p.promotional for p in ctx.declaration.purposes.values())
    if promotional and Right.opt_out_promotional not in ctx.declaration.rights.offered:
        yield Problem(
            ("rights", "offered"),
            "promotional purposes are declared; offer opt_out_promotional",
        )


RULES = [
    message_purposes,
    message_promotional,
    promotional_opt_out,
    promotional_consent,
    promotional_right_offered,
]
