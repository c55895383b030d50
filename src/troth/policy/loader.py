"""Read `policy.yaml` into a Declaration, reporting problems by file line."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError

from troth.errors import BadRequest
from troth.policy.schema import Declaration

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    path: Path_
    message: str
    line: int | None = None

    def render(self, filename: str) -> str:
        where = f"{filename}:{self.line}" if self.line else filename
        dotted = ".".join(str(part) for part in self.path)
        return f"{where}: {dotted}: {self.message}" if dotted else f"{where}: {self.message}"


class PolicyError(BadRequest):
    """The declaration cannot be used; carries one problem per line."""

    def __init__(self, filename: str, problems: Sequence[Problem]) -> None:
        self.filename = filename
        self.problems = list(problems)
        super().__init__("\n".join(p.render(filename) for p in self.problems))


@dataclass(frozen=True)
class LoadedPolicy:
    declaration: Declaration
    source: str
    filename: str
    tree: Any

    def line_of(self, path: Path_) -> int | None:
        return line_of(self.tree, path)

    @property
    def content_hash(self) -> str:
        return content_hash(self.declaration)


def canonical_json(declaration: Declaration) -> str:
    """Key order, comments and layout of the YAML do not change this text."""
    dumped = declaration.model_dump(mode="json")
    return json.dumps(dumped, sort_keys=True, separators=(",", ":"))


def content_hash(declaration: Declaration) -> str:
    return hashlib.sha256(canonical_json(declaration).encode()).hexdigest()


def line_of(tree: Any, path: Path_) -> int | None:
    """The 1-based line of the deepest node on `path` that the YAML tree still has."""
    node, line = tree, None
    for part in path:
        lc = getattr(node, "lc", None)
        try:
            if isinstance(part, int) and isinstance(node, list):
                line = lc.item(part)[0] + 1 if lc else line
                node = node[part]
            elif isinstance(node, dict) and part in node:
                line = lc.key(part)[0] + 1 if lc else line
                node = node[part]
            else:
                break
        except (KeyError, IndexError, TypeError):
            break
    return line


def _parse(source: str, filename: str) -> Any:
    yaml = YAML(typ="rt")
    try:
        return yaml.load(source)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else None
        raise PolicyError(filename, [Problem((), f"not valid YAML: {exc.problem}", line)]) from None


def _plain(node: Any) -> Any:
    """ruamel's round-trip types, turned into plain dicts and lists for validation."""
    if isinstance(node, dict):
        return {str(key): _plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(item) for item in node]
    return node


def parse_policy(source: str, filename: str = "policy.yaml") -> LoadedPolicy:
    tree = _parse(source, filename)
    if not isinstance(tree, dict):
        raise PolicyError(filename, [Problem((), "the declaration must be a mapping", 1)])
    try:
        declaration = Declaration.model_validate(_plain(tree))
    except ValidationError as exc:
        problems = [
            Problem(tuple(err["loc"]), err["msg"], line_of(tree, tuple(err["loc"])))
            for err in exc.errors()
        ]
        raise PolicyError(filename, problems) from None
    return LoadedPolicy(declaration, source, filename, tree)


def load_policy(path: Path) -> LoadedPolicy:
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadRequest(f"{path}: no such file (run `troth init` to write an example)") from None
    except UnicodeDecodeError:
        raise BadRequest(f"{path}: not UTF-8 text") from None
    return parse_policy(source, str(path))
