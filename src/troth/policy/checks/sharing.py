"""Third parties: their safeguards, what they receive, and who they are (SH1a, SC3)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from troth.policy.checks.base import Context, names, undeclared
from troth.policy.loader import Path_, Problem
from troth.policy.schema import RecipientRole, Safeguard, SafeguardKind


def safeguards(ctx: Context) -> Iterator[Problem]:
    for i, party in enumerate(ctx.declaration.third_parties):
        path: Path_ = ("third_parties", i, "safeguard")
        if party.safeguard is None:
            yield Problem(
                path,
                f"'{party.id}' has no safeguard; add one (dpf, eu_law, adequacy or "
                "written_agreement) or stop sharing with it",
            )
        else:
            yield from _safeguard(path, party.safeguard, ctx.today)


def _safeguard(path: Path_, safeguard: Safeguard, today: dt.date) -> Iterator[Problem]:
    kind = safeguard.kind
    if kind is SafeguardKind.dpf:
        yield from _dpf(path, safeguard, today)
    elif kind in (SafeguardKind.eu_law, SafeguardKind.adequacy) and safeguard.country is None:
        yield Problem(path, f"an {kind} safeguard needs the recipient's country")
    elif kind is SafeguardKind.written_agreement:
        yield from _written_agreement(path, safeguard, today)


def _dpf(path: Path_, safeguard: Safeguard, today: dt.date) -> Iterator[Problem]:
    if safeguard.valid_until is None:
        yield Problem(path, "a dpf safeguard needs valid_until, the certification's renewal date")
    elif safeguard.valid_until < today:
        yield Problem(
            (*path, "valid_until"),
            f"the Data Privacy Framework certification lapsed on {safeguard.valid_until}; "
            "confirm its renewal and update the date, or stop sharing",
        )


def _written_agreement(path: Path_, safeguard: Safeguard, today: dt.date) -> Iterator[Problem]:
    if safeguard.signed is None:
        yield Problem(path, "a written_agreement safeguard needs the date it was signed")
    if safeguard.expires is not None and safeguard.expires < today:
        yield Problem(
            (*path, "expires"),
            f"the written agreement expired on {safeguard.expires}; renew it or stop sharing",
        )


def shared_names(ctx: Context) -> Iterator[Problem]:
    purposes, categories = ctx.declaration.purposes, ctx.declaration.categories
    for i, party in enumerate(ctx.declaration.third_parties):
        for j, purpose in enumerate(party.purposes):
            if purpose not in purposes:
                path = ("third_parties", i, "purposes", j)
                yield Problem(path, undeclared("purpose", purpose, "purposes", purposes))
        for j, category in enumerate(party.categories):
            if category not in categories:
                path = ("third_parties", i, "categories", j)
                yield Problem(path, undeclared("category", category, "categories", categories))


def shared_categories_allowed(ctx: Context) -> Iterator[Problem]:
    declared = ctx.declaration.purposes
    for i, party in enumerate(ctx.declaration.third_parties):
        purposes = [declared[name] for name in party.purposes if name in declared]
        allowed = {category for purpose in purposes for category in purpose.categories}
        for j, category in enumerate(party.categories):
            if category in ctx.declaration.categories and category not in allowed:
                yield Problem(
                    ("third_parties", i, "categories", j),
                    f"none of its purposes ({names(party.purposes)}) may use '{category}'; "
                    "stop sharing it or add a purpose that uses it",
                )


def affiliates_in_group(ctx: Context) -> Iterator[Problem]:
    group = {entity.name for entity in ctx.declaration.organization.group}
    for i, party in enumerate(ctx.declaration.third_parties):
        if party.role is RecipientRole.affiliate and party.name not in group:
            yield Problem(
                ("third_parties", i, "name"),
                f"affiliate '{party.name}' is not one of organization.group; "
                "name it there or change its role",
            )


RULES = [safeguards, shared_names, shared_categories_allowed, affiliates_in_group]
