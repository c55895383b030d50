"""The runtime guard: may this actor use these categories for this purpose, for this person?

Every answer comes from the declaration. The guard is built once per declaration into
frozensets so that a check costs a few set look-ups (see bench/guard.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from troth.errors import Forbidden
from troth.policy.schema import Action, Basis, Declaration

SYSTEM_ROLE = "system"
"""Troth's own jobs act under this role: any declared purpose, never any other."""


class ActorKind(StrEnum):
    user = "user"
    token = "token"  # noqa: S105  (an API token acting, not a secret)
    system = "system"


@dataclass(frozen=True)
class Actor:
    id: str
    roles: frozenset[str]
    kind: ActorKind = ActorKind.user

    @classmethod
    def system(cls, name: str) -> Actor:
        return cls(id=f"system:{name}", roles=frozenset({SYSTEM_ROLE}), kind=ActorKind.system)


@dataclass(frozen=True)
class Subject:
    """What the guard needs to know about the person whose data is touched."""

    id: str
    consented: frozenset[str] = field(default_factory=frozenset)
    """Purposes the person said yes to."""
    objected: frozenset[str] = field(default_factory=frozenset)
    """Purposes the person opted out of."""
    awaiting_guardian: bool = False


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


@dataclass(frozen=True)
class _CompiledPurpose:
    categories: frozenset[str]
    roles: frozenset[str]
    needs_consent: bool
    opt_out: bool
    essential: bool


class Guard:
    def __init__(self, declaration: Declaration) -> None:
        self._purposes = {
            name: _CompiledPurpose(
                categories=frozenset(p.categories),
                roles=frozenset(p.roles),
                needs_consent=p.basis is Basis.consent,
                opt_out=p.opt_out,
                essential=p.essential,
            )
            for name, p in declaration.purposes.items()
        }
        self._actions = {
            name: frozenset(role.actions) for name, role in declaration.roles.items()
        }
        self._categories = frozenset(declaration.categories)

    def check(
        self,
        actor: Actor,
        purpose: str,
        categories: Iterable[str],
        subject: Subject | None = None,
    ) -> Decision:
        compiled = self._purposes.get(purpose)
        if compiled is None:
            return Decision(False, f"purpose '{purpose}' is not declared")
        if actor.kind is not ActorKind.system and not (actor.roles & compiled.roles):
            roles = ", ".join(sorted(actor.roles)) or "no role"
            return Decision(False, f"{roles} may not act for purpose '{purpose}'")
        wanted = frozenset(categories)
        if not wanted <= compiled.categories:
            outside = ", ".join(sorted(wanted - compiled.categories))
            return Decision(False, f"purpose '{purpose}' may not use {outside}")
        if subject is not None:
            refusal = self._subject_refusal(purpose, compiled, subject)
            if refusal:
                return Decision(False, refusal)
        return Decision(True, f"declared for purpose '{purpose}'")

    @staticmethod
    def _subject_refusal(purpose: str, compiled: _CompiledPurpose, subject: Subject) -> str:
        if subject.awaiting_guardian and not compiled.essential:
            return f"person {subject.id} awaits a guardian's consent"
        if purpose in subject.objected:
            return f"person {subject.id} opted out of '{purpose}'"
        if compiled.needs_consent and purpose not in subject.consented:
            return f"person {subject.id} has not consented to '{purpose}'"
        return ""

    def require(
        self,
        actor: Actor,
        purpose: str,
        categories: Iterable[str],
        subject: Subject | None = None,
    ) -> Decision:
        decision = self.check(actor, purpose, categories, subject)
        if not decision.allowed:
            raise Forbidden(decision.reason)
        return decision

    def may(self, actor: Actor, action: Action) -> Decision:
        if actor.kind is ActorKind.system:
            return Decision(True, "Troth's own job")
        for role in actor.roles:
            if action in self._actions.get(role, frozenset()):
                return Decision(True, f"role {role} may {action.value}")
        roles = ", ".join(sorted(actor.roles)) or "no role"
        return Decision(False, f"{roles} may not {action.value}")

    def purposes_for(self, actor: Actor) -> list[str]:
        return sorted(
            name
            for name, compiled in self._purposes.items()
            if actor.kind is ActorKind.system or actor.roles & compiled.roles
        )

    def is_declared_category(self, category: str) -> bool:
        return category in self._categories
