"""What an import may take: the declared source, the fields it supplies, and each row's checks.

A row is refused whole, with one reason, when any of its cells is refused: nothing of a row
with a card number, an invalid value or a field its source does not supply is stored.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from troth.errors import BadRequest, Unprocessable
from troth.people import cleaners, fields
from troth.people.cards import json_pairs, pairs_offend
from troth.people.fields import category_of
from troth.people.import_rows import MATCH_KEY, Row
from troth.people.provenance import GIVEN, THIRD_PARTY, Provenance
from troth.policy.schema import Declaration

COMBINING = "combine_third_party"
"""The purpose under which third-party data is combined with what people gave (US1)."""
CREATING = "deliver_services"
"""The purpose under which a `given` import keeps what people gave."""
CARD_REASON = "a cell holds a card number or security code; they are not accepted"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class ImportSource:
    name: str
    """`given`, or the id of a declared data source."""
    purpose: str
    supplied: frozenset[str]
    """The categories this source may supply."""
    origin: Provenance

    @property
    def creates(self) -> bool:
        """Only what people gave themselves makes new people; a third party only enriches."""
        return self.name == GIVEN


@dataclass(frozen=True)
class Candidate:
    number: int
    email: str
    """Normalized: the match key."""
    cells: dict[str, object]
    """The fields to store (for a third party, without the email)."""


def resolve_source(
    declaration: Declaration,
    name: str,
    file_name: str,
    collected_at: dt.datetime,
    purpose: str | None = None,
) -> ImportSource:
    """The source named on the command line; BadRequest naming the declared ones otherwise."""
    if name == GIVEN:
        kind, source, supplied = GIVEN, GIVEN, _supplied(declaration, GIVEN, None)
    elif name in declaration.data_sources:
        declared = set(declaration.data_sources[name].categories)
        kind, source = THIRD_PARTY, f"{THIRD_PARTY}:{name}"
        supplied = _supplied(declaration, THIRD_PARTY, declared)
    else:
        known = ", ".join(sorted(declaration.data_sources)) or "none"
        raise BadRequest(
            f"source '{name}' is not declared; declared data sources: {known} (or given)"
        )
    chosen = purpose or (CREATING if kind == GIVEN else COMBINING)
    if chosen not in declaration.purposes:
        raise BadRequest(f"purpose '{chosen}' is not declared")
    origin = Provenance(source, method_for(file_name), collected_at)
    return ImportSource(name, chosen, supplied, origin)


def _supplied(declaration: Declaration, kind: str, limit: set[str] | None) -> frozenset[str]:
    return frozenset(
        category
        for category, declared in declaration.categories.items()
        if kind in declared.sources and (limit is None or category in limit)
    )


def method_for(file_name: str) -> str:
    """import:<file name>, with characters a method may not hold replaced by _."""
    return f"import:{_UNSAFE.sub('_', file_name)[:90] or 'file'}"


def screen(row: Row, source: ImportSource) -> Candidate | str:
    """The row's match key and fields to store, or the reason it is refused."""
    if row.problem is not None:
        return row.problem
    if pairs_offend(json_pairs(row.cells)):
        return CARD_REASON
    raw = row.cells.get(MATCH_KEY)
    if raw is None:
        return "no email to match the row to a person"
    try:
        email = cleaners.email(raw)
    except cleaners.Invalid:
        return "email: not a valid email address"
    cells = {k: v for k, v in row.cells.items() if k != MATCH_KEY or source.creates}
    outside = [name for name in cells if category_of(name) not in source.supplied]
    if outside:
        return "; ".join(
            f"{name}: source '{source.name}' does not supply {category_of(name)}"
            for name in outside
        )
    if not cells:
        return "nothing to import besides the email"
    return Candidate(row.number, email, cells)


def clean(candidate: Candidate, country: str | None) -> dict[str, str] | str:
    """Each value checked and normalised, or the reasons (field by field) it cannot be."""
    hints = cleaners.Hints(country, fields.today())
    rest = {name: value for name, value in candidate.cells.items() if name != MATCH_KEY}
    try:
        cleaned = fields.clean_values(rest, hints)
    except Unprocessable as exc:
        return exc.message
    # The email was checked and normalised by screen(): not validated twice.
    cleaned[MATCH_KEY] = candidate.email
    return {name: text for name in candidate.cells if (text := cleaned[name]) is not None}


def jurisdiction_after(
    current: str | None, applied: Mapping[str, str]
) -> tuple[str | None, str | None]:
    """(country, region) once these values apply over a person's current jurisdiction."""
    now = current or ""
    region = applied.get("region", now if "-" in now else None)
    country = applied.get("country", now[:2] or None)
    return country, region
