"""Serving a generated script: its bytes, an ETag from their hash, and a short public cache.

`PerDeclaration` keeps the last script built, rebuilt only when the declaration in force
is replaced (a new policy version), so a request costs no generation.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from calmjs.parse import es5
from calmjs.parse.unparsers.es5 import minify_print
from fastapi import Request
from fastapi.responses import Response

from troth.policy.schema import Declaration

MEDIA_TYPE = "text/javascript; charset=utf-8"
CACHE_CONTROL = "public, max-age=300"
PLACEHOLDER = "__TROTH_CONFIG__"

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Script:
    body: bytes
    etag: str

    @classmethod
    def of(cls, text: str) -> Script:
        body = text.encode()
        return cls(body=body, etag=f'"{hashlib.sha256(body).hexdigest()[:32]}"')


def fill(template: Path, config: dict[str, Any]) -> str:
    """The script with its settings in place of the placeholder, minified (names shortened)."""
    source = template.read_text(encoding="utf-8")
    if PLACEHOLDER not in source:
        raise RuntimeError(f"{template.name} has no {PLACEHOLDER}")
    settings = json.dumps(config, separators=(",", ":"), ensure_ascii=True, sort_keys=True)
    return minify(source.replace(PLACEHOLDER, settings))


def minify(source: str) -> str:
    text: str = minify_print(es5(source), obfuscate=True, obfuscate_globals=False)
    return text


class PerDeclaration(Generic[T]):
    def __init__(self, build: Callable[[Declaration], T]) -> None:
        self._build = build
        self._last: tuple[Declaration, T] | None = None

    def __call__(self, declaration: Declaration) -> T:
        last = self._last
        if last is not None and last[0] is declaration:
            return last[1]
        value = self._build(declaration)
        self._last = (declaration, value)
        return value


def _matches(request: Request, etag: str) -> bool:
    sent = request.headers.get("if-none-match", "")
    return any(tag.strip().removeprefix("W/") == etag for tag in sent.split(","))


def script_response(request: Request, script: Script) -> Response:
    headers = {
        "ETag": script.etag,
        "Cache-Control": CACHE_CONTROL,
        # Customer pages may isolate themselves (COEP): allow them to load this script.
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    if _matches(request, script.etag):
        return Response(status_code=304, headers=headers)
    return Response(script.body, media_type=MEDIA_TYPE, headers=headers)
