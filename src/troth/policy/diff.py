"""What changed between two declarations: structural changes, and the text for people.

Declarations are compared as flat dotted paths (`categories.ip.retention_days`). Lists of
mappings that carry an `id` or `name` are keyed by it (`cookies.troth_vid.lifetime_days`),
and lists of plain values are compared as sets, so reordering is never a change.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from troth.policy.schema import Declaration

KEYS = ("id", "name")
MISSING: Any = object()


class ChangeKind(StrEnum):
    added = "added"
    removed = "removed"
    changed = "changed"


@dataclass(frozen=True)
class Change:
    path: str
    kind: ChangeKind
    old: Any = None
    new: Any = None

    def render(self) -> str:
        if self.kind is ChangeKind.added:
            return f"+ {self.path}: {_show(self.new)}"
        if self.kind is ChangeKind.removed:
            return f"- {self.path}: {_show(self.old)}"
        return f"~ {self.path}: {_show(self.old)} -> {_show(self.new)}"


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_show(item) for item in value) + "]"
    return "null" if value is None else str(value)


def _list_key(items: list[Any]) -> str | None:
    """The key that names every item of a list of mappings uniquely, if there is one."""
    if not items or not all(isinstance(item, Mapping) for item in items):
        return None
    for key in KEYS:
        names = [item.get(key) for item in items]
        if None not in names and len(set(map(str, names))) == len(names):
            return key
    return None


def _is_plain_list(value: Any) -> bool:
    return isinstance(value, list) and not any(isinstance(i, Mapping | list) for i in value)


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Leaves of a JSON-like value by dotted path; plain lists are leaves, empty ones vanish."""
    if isinstance(value, Mapping):
        children = {str(key): item for key, item in value.items()}
    elif isinstance(value, list) and not _is_plain_list(value):
        key = _list_key(value)
        children = {str(item[key]) if key else str(i): item for i, item in enumerate(value)}
    else:
        return {prefix: value}
    if not children:
        return {}
    flat: dict[str, Any] = {}
    for name, item in children.items():
        flat.update(flatten(item, f"{prefix}.{name}" if prefix else name))
    return flat


def _same(old: Any, new: Any) -> bool:
    if _is_plain_list(old) and _is_plain_list(new):
        return sorted(map(repr, old)) == sorted(map(repr, new))
    return bool(old == new)


def diff_values(a: Any, b: Any) -> list[Change]:
    old, new = flatten(a), flatten(b)
    changes = []
    for path in sorted(old.keys() | new.keys()):
        before, after = old.get(path, MISSING), new.get(path, MISSING)
        if before is MISSING:
            changes.append(Change(path, ChangeKind.added, new=after))
        elif after is MISSING:
            changes.append(Change(path, ChangeKind.removed, old=before))
        elif not _same(before, after):
            changes.append(Change(path, ChangeKind.changed, old=before, new=after))
    return changes


def diff_declarations(a: Declaration, b: Declaration) -> list[Change]:
    """Every added, removed and changed value from declaration `a` to declaration `b`."""
    return diff_values(a.model_dump(mode="json"), b.model_dump(mode="json"))


def text_diff(a: str, b: str, a_label: str = "a", b_label: str = "b") -> str:
    """A unified diff of two rendered policies, for people."""
    lines = difflib.unified_diff(
        a.splitlines(keepends=True), b.splitlines(keepends=True), a_label, b_label
    )
    return "".join(lines)
