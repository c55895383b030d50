"""What the people services need from a running Troth: the guard, the declaration and the keys."""

from __future__ import annotations

from dataclasses import dataclass

from troth.keys import FieldCipher, KeyStore
from troth.policy.guard import Guard
from troth.policy.schema import Declaration
from troth.runtime import Runtime


@dataclass(frozen=True)
class PeopleContext:
    guard: Guard
    declaration: Declaration
    keys: KeyStore
    cipher: FieldCipher


def context_for(runtime: Runtime) -> PeopleContext:
    return PeopleContext(runtime.guard, runtime.declaration, runtime.keys, runtime.cipher)
