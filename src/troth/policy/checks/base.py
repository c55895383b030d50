"""What every consistency rule shares: its input, its output, and a few phrases."""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from troth.policy.loader import Problem
from troth.policy.schema import Declaration


@dataclass(frozen=True)
class Context:
    declaration: Declaration
    today: dt.date


Rule = Callable[[Context], Iterator[Problem]]


def undeclared(kind: str, name: str, section: str, known: Iterable[str]) -> str:
    message = f"{kind} '{name}' is not declared under {section}"
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"{message} (did you mean '{close[0]}'?)" if close else message


def names(items: Iterable[str]) -> str:
    return ", ".join(f"'{item}'" for item in items)
