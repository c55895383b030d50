"""Recording cookie choices in the ledger and reading them back.

A choice is the visitor's own act, so recording it asks no role. Reading the ledger is
for the console (guarded by its route) and for data subject requests (`history`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from troth.collect.sites import Sites
from troth.consent import repository
from troth.consent.models import ConsentRecord
from troth.consent.schemas import ConsentIn
from troth.errors import Forbidden
from troth.policy import service as policy_service
from troth.policy.schema import CookieCategory, Declaration


def declared_site(declaration: Declaration, site: str) -> str:
    """The declared site a name belongs to (SC1); Forbidden when the policy does not cover it."""
    found = Sites.of(declaration.sites).site_of(site)
    if found is None:
        raise Forbidden(f"{site!r} is not a site this privacy policy covers")
    return found


def switchable(declaration: Declaration) -> frozenset[CookieCategory]:
    """The categories a visitor may switch: those with at least one declared cookie."""
    return frozenset(
        cookie.category
        for cookie in declaration.cookies
        if cookie.category is not CookieCategory.necessary
    )


def current_policy_version(session: Session) -> int | None:
    latest = policy_service.latest(session)
    return latest.number if latest is not None else None


def record(
    session: Session, declaration: Declaration, choice: ConsentIn, now: dt.datetime
) -> ConsentRecord:
    """Store one choice; a category with no declared cookie is stored as refused."""
    offered = switchable(declaration)
    entry = ConsentRecord(
        site=declared_site(declaration, choice.site),
        visitor_key=choice.visitor_key,
        analytics=choice.choice.analytics and CookieCategory.analytics in offered,
        marketing=choice.choice.marketing and CookieCategory.marketing in offered,
        policy_version=current_policy_version(session),
        banner_version=choice.banner_version,
        method=choice.method.value,
        at=now,
    )
    repository.add(session, entry)
    return entry


def history(session: Session, visitor_key: str) -> Sequence[ConsentRecord]:
    """Every choice made under one visitor key, oldest first (for access requests)."""
    return repository.of_visitor(session, visitor_key)


@dataclass
class DayCounts:
    day: str
    by_method: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_method.values())


def counts(session: Session, now: dt.datetime, days: int = 30) -> list[DayCounts]:
    """How many choices were made each day, by method, newest day first."""
    since = (now - dt.timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    result: dict[str, DayCounts] = {}
    for day, method, count in repository.counts_by_day_and_method(session, since):
        key = str(day)
        result.setdefault(key, DayCounts(key)).by_method[method] = count
    return list(result.values())
