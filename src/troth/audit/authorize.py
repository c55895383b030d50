"""Ask the guard and write its answer to the audit log, in one call.

A denial raises Forbidden. Its audit entry is written twice over on purpose: once in the
request's own transaction (kept if the caller handles the error and commits) and once as
an after-rollback write (kept when the error ends the request and its transaction is
rolled back). Exactly one of the two survives.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from troth.audit.service import Outcome, record
from troth.errors import Forbidden
from troth.policy.guard import Actor, Decision, Guard, Subject
from troth.policy.schema import Action


def authorize(
    session: Session,
    guard: Guard,
    actor: Actor,
    purpose: str,
    categories: Iterable[str],
    *,
    action: str,
    subject: Subject | None = None,
) -> Decision:
    """May this actor use these categories for this purpose (for this person)? Audited."""
    wanted = tuple(categories)
    decision = guard.check(actor, purpose, wanted, subject)
    fields: dict[str, Any] = {
        "actor": actor.id,
        "action": action,
        "purpose": purpose,
        "subject_id": subject.id if subject is not None else None,
        "categories": wanted,
    }
    return _settle(session, decision, fields)


def authorize_action(session: Session, guard: Guard, actor: Actor, action: Action) -> Decision:
    """May this actor take an action that touches no one's data? Audited."""
    decision = guard.may(actor, action)
    return _settle(session, decision, {"actor": actor.id, "action": action.value})


def _settle(session: Session, decision: Decision, fields: dict[str, Any]) -> Decision:
    outcome = Outcome.allowed if decision.allowed else Outcome.denied
    record(session, outcome=outcome, reason=decision.reason, **fields)
    if decision.allowed:
        return decision
    error = Forbidden(decision.reason)
    error.after_rollback.append(partial(_record_denial, reason=decision.reason, **fields))
    raise error


def _record_denial(session: Session, **fields: Any) -> None:
    record(session, outcome=Outcome.denied, **fields)
