"""Whether a visitor's events may carry the person an identify token named (US1, CH1, CO2).

The collector puts a person id on an event when the hit carried a genuine identify token.
This ingest hook, run on each batch before it is inserted, keeps that link only where it is
allowed, and clears it everywhere else:

- the event was cookieless: the visitor gave no consent to analytics cookies, and an event
  without that consent is never tied to a person;
- no such person exists;
- the person is not active: awaiting a guardian's consent or suspended (CH1), so nothing
  about them is tracked or linked;
- the guard refuses the purpose linking serves for that person (they objected to it, or the
  declaration no longer gives it the categories a link combines).

Linking serves `understand_experience` in the example declaration: a link ties the cookie
identifier to the usage events and their times, so those are the categories asked for. A
declaration without that purpose, or without those categories in it, links no one.

The people of a batch are read in one query (in chunks for very large batches). The guard
in force is the one of the runtime attached to the session's database (`attach`); when no
runtime is attached in this process, the published declaration is used; with neither,
nothing is linked.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from troth.collect import ingest
from troth.people.models import Person, PersonStatus
from troth.people.subjects import subject_for
from troth.policy import service as policy_service
from troth.policy.guard import Actor, Guard
from troth.runtime import Runtime

log = logging.getLogger(__name__)

LINK_PURPOSE = "understand_experience"
LINK_CATEGORIES = ("cookie_id", "product_events", "access_times")
LINKER = Actor.system("collect-link")
CHUNK = 900
"""Person ids per query: below every database's limit on bound parameters."""

_runtimes: dict[int, Runtime] = {}
_published: dict[str, Guard] = {}
"""Guards of published versions, by content hash."""


def attach(runtime: Runtime) -> None:
    """Let batches stored through `runtime`'s database be judged by its guard."""
    _runtimes[id(runtime.engine)] = runtime


def may_link(guard: Guard, person: Person) -> bool:
    if person.status != PersonStatus.active:
        return False
    subject = subject_for(person)
    return guard.check(LINKER, LINK_PURPOSE, LINK_CATEGORIES, subject).allowed


def linkable(session: Session, guard: Guard, public_ids: Iterable[str]) -> set[str]:
    """Which of these people may have events linked to them now."""
    wanted = sorted(set(public_ids))
    allowed: set[str] = set()
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        people = session.scalars(select(Person).where(Person.public_id.in_(chunk)))
        allowed.update(p.public_id for p in people if may_link(guard, p))
    return allowed


def before_insert(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Clear every person id this batch may not keep (and store "no person" as NULL)."""
    claimed = {row["person_id"] for row in rows if _claims_link(row)}
    allowed: set[str] = set()
    if claimed:
        guard = _guard_for(session)
        allowed = linkable(session, guard, claimed) if guard is not None else set()
    for row in rows:
        keep = _claims_link(row) and row["person_id"] in allowed
        row["person_id"] = row["person_id"] if keep else None


def _claims_link(row: dict[str, Any]) -> bool:
    return bool(row.get("person_id")) and not row.get("cookieless", True)


def _guard_for(session: Session) -> Guard | None:
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    runtime = _runtimes.get(id(engine))
    if runtime is not None and runtime.engine is engine:
        return runtime.guard
    latest = policy_service.latest(session)
    if latest is None:
        log.warning("no policy in force for this database: events are stored unlinked")
        return None
    guard = _published.get(latest.content_hash)
    if guard is None:
        guard = Guard(policy_service.declaration_of(latest))
        _published[latest.content_hash] = guard
    return guard


if before_insert not in ingest._before:
    ingest.before_insert(before_insert)
