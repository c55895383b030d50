"""Purposes, categories and where data comes from (US1, CO2, CO3)."""

from __future__ import annotations

from collections.abc import Iterator

from troth.policy.checks.base import Context, undeclared
from troth.policy.loader import Problem
from troth.policy.schema import IpHandling, Source


def purpose_categories(ctx: Context) -> Iterator[Problem]:
    known = ctx.declaration.categories
    for name, purpose in ctx.declaration.purposes.items():
        for i, category in enumerate(purpose.categories):
            if category not in known:
                path = ("purposes", name, "categories", i)
                yield Problem(path, undeclared("category", category, "categories", known))


def purpose_roles(ctx: Context) -> Iterator[Problem]:
    known = ctx.declaration.roles
    for name, purpose in ctx.declaration.purposes.items():
        for i, role in enumerate(purpose.roles):
            if role not in known:
                path = ("purposes", name, "roles", i)
                yield Problem(path, undeclared("role", role, "roles", known))


def category_retention(ctx: Context) -> Iterator[Problem]:
    for name, category in ctx.declaration.categories.items():
        if category.retention_days is None:
            yield Problem(
                ("categories", name),
                "no retention_days: say how many days this information is kept",
            )


def data_source_categories(ctx: Context) -> Iterator[Problem]:
    known = ctx.declaration.categories
    for name, source in ctx.declaration.data_sources.items():
        for i, category in enumerate(source.categories):
            path = ("data_sources", name, "categories", i)
            if category not in known:
                yield Problem(path, undeclared("category", category, "categories", known))
            elif Source.third_party not in known[category].sources:
                yield Problem(
                    path,
                    f"category '{category}' does not list third_party in its sources; "
                    "add it there or stop taking it from this source",
                )


def third_party_sources_supplied(ctx: Context) -> Iterator[Problem]:
    supplied = {c for source in ctx.declaration.data_sources.values() for c in source.categories}
    for name, category in ctx.declaration.categories.items():
        if Source.third_party in category.sources and name not in supplied:
            i = category.sources.index(Source.third_party)
            yield Problem(
                ("categories", name, "sources", i),
                "no data source supplies this category; declare one under data_sources "
                "or remove third_party from its sources",
            )


def ip_purpose(ctx: Context) -> Iterator[Problem]:
    collection, purposes = ctx.declaration.collection, ctx.declaration.purposes
    if collection.ip is not IpHandling.encrypt:
        return
    if collection.ip_purpose is None:
        yield Problem(
            ("collection", "ip"),
            "ip: encrypt keeps full addresses; name the purpose they serve in ip_purpose",
        )
    elif collection.ip_purpose not in purposes:
        yield Problem(
            ("collection", "ip_purpose"),
            undeclared("purpose", collection.ip_purpose, "purposes", purposes),
        )
    elif "ip" not in purposes[collection.ip_purpose].categories:
        yield Problem(
            ("collection", "ip_purpose"),
            f"purpose '{collection.ip_purpose}' may not use 'ip'; add ip to its categories "
            "or choose another purpose",
        )


RULES = [
    purpose_categories,
    purpose_roles,
    category_retention,
    data_source_categories,
    third_party_sources_supplied,
    ip_purpose,
]
