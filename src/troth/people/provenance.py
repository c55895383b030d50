"""Where each value came from (CO2), and which value wins when two sources disagree.

A source is `given` (the person told us), `automatic` (collected on a visit) or
`third_party:<id>` (a data source declared in the policy). The merge rule is one pure
function, used by updates and by imports alike.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from troth.errors import Unprocessable
from troth.policy.schema import Declaration, Source

GIVEN = "given"
AUTOMATIC = "automatic"
THIRD_PARTY = "third_party"
_METHOD = re.compile(r"[a-z][a-z0-9_]{0,31}(?::[A-Za-z0-9_.-]{1,90})?")
"""web_form, api, console, import:<name>, ..."""


@dataclass(frozen=True)
class Provenance:
    source: str
    method: str
    collected_at: dt.datetime

    @property
    def kind(self) -> str:
        return kind_of(self.source)

    @property
    def data_source(self) -> str | None:
        kind, _, name = self.source.partition(":")
        return name if kind == THIRD_PARTY else None


@dataclass(frozen=True)
class Merge:
    replace: bool
    reason: str


def kind_of(source: str) -> str:
    kind, colon, name = source.partition(":")
    if source in (GIVEN, AUTOMATIC) or (kind == THIRD_PARTY and colon and name):
        return kind
    raise Unprocessable(
        f"source '{source}': use given, automatic, or third_party:<declared data source>"
    )


def check(declaration: Declaration, provenance: Provenance, categories: Iterable[str]) -> None:
    """Refuse an undeclared data source, one not declared for these categories, or a
    malformed method."""
    if not _METHOD.fullmatch(provenance.method):
        raise Unprocessable(
            f"method '{provenance.method}': a word like web_form, api, console or import:<name>"
        )
    name = provenance.data_source
    if provenance.kind != THIRD_PARTY or name is None:
        return
    declared = declaration.data_sources.get(name)
    if declared is None:
        known = ", ".join(sorted(declaration.data_sources)) or "none"
        raise Unprocessable(f"data source '{name}' is not declared (declared: {known})")
    outside = sorted(set(categories) - set(declared.categories))
    if outside:
        raise Unprocessable(f"data source '{name}' is not declared for {', '.join(outside)}")


def declared_kind(kind: str) -> Source:
    return Source(kind)


def merge(current: Provenance | None, incoming: Provenance) -> Merge:
    """What the person gave wins over any other source; otherwise the newer value wins."""
    if current is None:
        return Merge(True, "no value yet")
    if current.kind == GIVEN and incoming.kind != GIVEN:
        return Merge(False, "the person gave this value; another source does not replace it")
    if incoming.kind == GIVEN and current.kind != GIVEN:
        return Merge(True, "the person's own value replaces one from another source")
    if incoming.collected_at < current.collected_at:
        return Merge(False, "the stored value is newer")
    return Merge(True, "newer than the stored value")
