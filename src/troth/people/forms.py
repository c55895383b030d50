"""Turning the console's person form into values for the service, and values back into it."""

from __future__ import annotations

from collections.abc import Mapping

from troth.people.cleaners import ADDRESS_PARTS
from troth.people.fields import CATALOGUE, Value

ADDRESS = "postal_address"
FLAT_FIELDS = [name for name in CATALOGUE if name != ADDRESS]


def address_key(part: str) -> str:
    return f"{ADDRESS}.{part}"


def values_from_form(form: Mapping[str, str], shown: set[str] | None = None) -> dict[str, object]:
    """Every field in the form (only those in `shown` when given); empty means no value."""
    found: dict[str, object] = {}
    for name in FLAT_FIELDS:
        if name in form and (shown is None or name in shown):
            found[name] = form[name].strip() or None
    parts = {part: form.get(address_key(part), "").strip() for part in ADDRESS_PARTS}
    if any(address_key(part) in form for part in ADDRESS_PARTS) and (
        shown is None or ADDRESS in shown
    ):
        found[ADDRESS] = {k: v for k, v in parts.items() if v} or None
    return found


def changed_only(
    submitted: Mapping[str, object], current: Mapping[str, Value]
) -> dict[str, object]:
    """Leave out what the form sends back unchanged, so its provenance stays as it was."""
    changes: dict[str, object] = {}
    for name, value in submitted.items():
        before = current.get(name)
        if value is None and before is None:
            continue
        if _same(value, before):
            continue
        changes[name] = value
    return changes


def _same(value: object, before: Value | None) -> bool:
    if isinstance(before, dict) and isinstance(value, dict):
        return {k: v for k, v in before.items() if v} == value
    return before is not None and str(before) == value


def form_of(values: Mapping[str, Value]) -> dict[str, str]:
    """The form's initial text for each field."""
    shown = {name: str(value) for name, value in values.items() if not isinstance(value, dict)}
    address = values.get(ADDRESS)
    if isinstance(address, dict):
        shown.update({address_key(part): text for part, text in address.items()})
    return shown
