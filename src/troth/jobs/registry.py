"""Which function handles which kind of job."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from troth.jobs.queue import MAX_KIND_CHARS

Handler = Callable[[Session, dict[str, Any]], None]


class Registry:
    """Handlers by job kind. A handler runs in its own transaction and must be idempotent."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def register(self, kind: str, fn: Handler) -> None:
        if not kind or len(kind) > MAX_KIND_CHARS:
            raise ValueError(f"job kind must be 1 to {MAX_KIND_CHARS} characters")
        if kind in self._handlers and self._handlers[kind] is not fn:
            raise ValueError(f"job kind {kind!r} already has a handler")
        self._handlers[kind] = fn

    def handler(self, kind: str) -> Callable[[Handler], Handler]:
        """Decorator form of `register`."""

        def decorate(fn: Handler) -> Handler:
            self.register(kind, fn)
            return fn

        return decorate

    def get(self, kind: str) -> Handler | None:
        return self._handlers.get(kind)

    def kinds(self) -> list[str]:
        return sorted(self._handlers)

    def extended(self) -> Registry:
        """A copy to add handlers that need a running Troth (the mailer needs its keys)."""
        copy = Registry()
        copy._handlers = dict(self._handlers)
        return copy


registry = Registry()
"""The application's registry; domains register their handlers here at import time."""

handler = registry.handler
