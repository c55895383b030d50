"""The catalogue of person fields: each one's declared category and how its value is checked.

A field may be stored only when the declaration declares its category and lets that category
come from the value's source. Every value is checked and normalised here before it is
encrypted; problems are reported together, each naming its field.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from troth.errors import Unprocessable
from troth.people import cleaners
from troth.people.cleaners import Hints, Invalid
from troth.policy.schema import Declaration

Value = str | int | dict[str, str]
Cleaner = Callable[[object, Hints], str]


@dataclass(frozen=True)
class FieldSpec:
    name: str
    category: str
    label: str
    clean: Cleaner
    structured: bool = False
    """Stored as JSON text (the postal address)."""
    number: bool = False


def _text(max_length: int) -> Cleaner:
    return lambda value, _hints: cleaners.text(value, max_length)


def _plain(check: Callable[[object], str]) -> Cleaner:
    return lambda value, _hints: check(value)


CATALOGUE: dict[str, FieldSpec] = {
    spec.name: spec
    for spec in (
        FieldSpec("name", "name", "Name", _text(200)),
        FieldSpec("email", "email", "Email", _plain(cleaners.email)),
        FieldSpec(
            "postal_address",
            "postal_address",
            "Postal address",
            _plain(cleaners.postal_address),
            structured=True,
        ),
        FieldSpec("phone", "phone", "Phone", cleaners.phone),
        FieldSpec("fax", "fax", "Fax", cleaners.phone),
        FieldSpec("company", "company", "Company", _text(200)),
        FieldSpec("demographics.role", "demographics", "Role", _text(100)),
        FieldSpec("demographics.company_size", "demographics", "Company size", _text(40)),
        FieldSpec("date_of_birth", "birth_date", "Date of birth", cleaners.date_of_birth),
        FieldSpec("age", "birth_date", "Age", _plain(cleaners.age), number=True),
        FieldSpec("guardian_email", "guardian_email", "Guardian's email", _plain(cleaners.email)),
        FieldSpec("country", "postal_address", "Country", _plain(cleaners.country)),
        FieldSpec("region", "postal_address", "Region", _plain(cleaners.region)),
    )
}
INDEXED = ("email", "phone")
"""Fields with a blind index, for exact search."""
PAYMENT_CATEGORY = "payment_card"


def spec_of(field: str) -> FieldSpec:
    spec = CATALOGUE.get(field)
    if spec is None:
        known = ", ".join(CATALOGUE)
        raise Unprocessable(f"{field}: unknown field; the fields are {known}")
    return spec


def category_of(field: str) -> str:
    return spec_of(field).category


def categories_of(fields: Iterable[str]) -> frozenset[str]:
    return frozenset(category_of(field) for field in fields)


def clean_values(values: Mapping[str, object], hints: Hints) -> dict[str, str | None]:
    """Each field's text to encrypt (None: remove the value). Raises one 422 naming every
    field in error."""
    unknown = [field for field in values if field not in CATALOGUE]
    if unknown:
        spec_of(unknown[0])
    hints = _with_country(values, hints)
    cleaned: dict[str, str | None] = {}
    problems: list[str] = []
    for field, value in values.items():
        if value is None or value == "":
            cleaned[field] = None
            continue
        try:
            cleaned[field] = CATALOGUE[field].clean(value, hints)
        except Invalid as exc:
            problems.append(f"{field}: {exc}")
    problems.extend(_mismatched_region(cleaned))
    if problems:
        raise Unprocessable("; ".join(problems))
    return cleaned


def _with_country(values: Mapping[str, object], hints: Hints) -> Hints:
    given = values.get("country")
    if isinstance(given, str):
        try:
            return Hints(country=cleaners.country(given), today=hints.today)
        except Invalid:
            return hints
    return hints


def _mismatched_region(cleaned: Mapping[str, str | None]) -> list[str]:
    country, region = cleaned.get("country"), cleaned.get("region")
    if country and region and not region.startswith(f"{country}-"):
        return [f"region: {region} is not in {country}"]
    return []


def decode(field: str, text: str) -> Value:
    spec = CATALOGUE.get(field)
    if spec is not None and spec.structured:
        parsed: dict[str, str] = json.loads(text)
        return parsed
    if spec is not None and spec.number:
        return int(text)
    return text


def check_declared(declaration: Declaration, fields: Iterable[str], kind: str) -> None:
    """Refuse fields whose category the declaration does not declare, or does not let come
    from this kind of source (given, automatic, third_party)."""
    problems = []
    for field in fields:
        category = declaration.categories.get(category_of(field))
        if category is None:
            problems.append(f"{field}: the declaration does not declare '{category_of(field)}'")
        elif kind not in category.sources:
            problems.append(f"{field}: '{category_of(field)}' is not declared to come from {kind}")
    if problems:
        raise Unprocessable("; ".join(problems))


def jurisdiction(country: str | None, region: str | None) -> str | None:
    return region or country


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()
