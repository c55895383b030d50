"""Scope, dates, children, request channels and repeated entries (SC1, SC2, CH1, CC2, PC1)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from troth.policy.checks.base import Context
from troth.policy.loader import Problem
from troth.policy.schema import Channel


def _repeats(section: str, key: str, values: Iterable[str]) -> Iterator[Problem]:
    first: dict[str, int] = {}
    for i, value in enumerate(values):
        if value in first:
            yield Problem(
                (section, i, key),
                f"'{value}' is already listed as {section}.{first[value]}; remove one",
            )
        first.setdefault(value, i)


def repeated_entries(ctx: Context) -> Iterator[Problem]:
    declaration = ctx.declaration
    yield from _repeats("sites", "domain", (site.domain for site in declaration.sites))
    yield from _repeats("third_parties", "id", (party.id for party in declaration.third_parties))
    yield from _repeats("cookies", "name", (cookie.name for cookie in declaration.cookies))
    yield from _repeats("beacons", "name", (beacon.name for beacon in declaration.beacons))


def sites_covered_twice(ctx: Context) -> Iterator[Problem]:
    sites = ctx.declaration.sites
    parents = [site.domain for site in sites if site.include_subdomains]
    for i, site in enumerate(sites):
        parent = next((p for p in parents if site.domain.endswith(f".{p}")), None)
        if parent:
            yield Problem(
                ("sites", i, "domain"),
                f"already covered by '{parent}' with its subdomains; remove this entry",
            )


def processor_data_terms(ctx: Context) -> Iterator[Problem]:
    declaration = ctx.declaration
    if declaration.out_of_scope.terms_url is None and declaration.organization.terms_url is None:
        yield Problem(
            ("out_of_scope", "processor_data"),
            "data handled for customers falls under your terms of use; "
            "give their address in out_of_scope.terms_url",
        )


def ages_of_majority(ctx: Context) -> Iterator[Problem]:
    children = ctx.declaration.children
    for region, age in children.ages_of_majority.items():
        if age < children.default_age_of_majority:
            yield Problem(
                ("children", "ages_of_majority", region),
                f"{age} is below the default age of {children.default_age_of_majority}, "
                "which applies anyway as the higher one; remove this entry",
            )


def email_channel(ctx: Context) -> Iterator[Problem]:
    if Channel.email not in ctx.declaration.rights.channels:
        yield Problem(
            ("rights", "channels"),
            "add email: people must be able to send requests to the support address",
        )


def effective_after_update(ctx: Context) -> Iterator[Problem]:
    declaration = ctx.declaration
    effective = declaration.effective_date
    if effective is not None and effective < declaration.last_updated:
        yield Problem(
            ("effective_date",),
            f"{effective} is before last_updated ({declaration.last_updated}); "
            "a version cannot take effect before it was written",
        )


RULES = [
    repeated_entries,
    sites_covered_twice,
    processor_data_terms,
    ages_of_majority,
    email_channel,
    effective_after_update,
]
