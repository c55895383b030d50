"""Which declaration governs right now."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from troth.policy.loader import load_policy
from troth.policy.schema import Declaration


def declaration_in_force(session: Session, policy_file: Path) -> Declaration:
    from troth.policy import service  # the service imports the runtime's neighbours

    latest = service.latest(session)
    if latest is not None:
        return service.declaration_of(latest)
    return load_policy(policy_file).declaration
